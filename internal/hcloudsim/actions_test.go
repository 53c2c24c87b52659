package hcloudsim_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
)

func TestActionEndpoints(t *testing.T) {
	env := newEnv(t)
	c := env.Client
	ctx := testCtx(t)
	srv := createServer(t, env, serverSpec{name: "a"})
	a := must[*hcloud.Action](t)(c.Server.Poweroff(ctx, srv))
	wait(t, env, a)

	t.Run("per resource", func(t *testing.T) {
		acts, err := c.Server.Action.AllFor(ctx, srv, hcloud.ActionListOpts{})
		if err != nil {
			t.Fatal(err)
		}
		var cmds []string
		for _, x := range acts {
			cmds = append(cmds, x.Command)
		}
		for _, want := range []string{"create_server", "start_server", "stop_server"} {
			if !slices.Contains(cmds, want) {
				t.Fatalf("actions of server = %v, missing %s", cmds, want)
			}
		}
	})
	t.Run("by id", func(t *testing.T) {
		got := must[*hcloud.Action](t)(c.Action.GetByID(ctx, a.ID))
		if got.Status != hcloud.ActionStatusSuccess || got.Progress != 100 || got.Finished.IsZero() {
			t.Fatalf("action %+v", got)
		}
		got = must[*hcloud.Action](t)(c.Server.Action.GetByID(ctx, a.ID))
		if got == nil || got.ID != a.ID {
			t.Fatal("type-level /servers/actions/{id} failed")
		}
		if got := must[*hcloud.Action](t)(c.Action.GetByID(ctx, 1)); got != nil {
			t.Fatal("unknown action should map to nil via not_found")
		}
	})
	t.Run("list requires ids and returns every id", func(t *testing.T) {
		acts, err := c.Action.AllWithOpts(ctx, hcloud.ActionListOpts{ID: []int64{a.ID, a.ID - 1, 999}})
		if err != nil || len(acts) != 2 {
			t.Fatalf("got %d actions, err %v", len(acts), err)
		}
		_, _, err = c.Action.List(ctx, hcloud.ActionListOpts{})
		wantCode(t, err, hcloud.ErrorCodeInvalidInput)
	})
}

// TestWaitForBatches checks that hcloud-go's WaitFor polls many actions with
// a handful of GET /actions?id=… requests rather than one per action.
func TestWaitForBatches(t *testing.T) {
	env := newEnv(t)
	ctx := testCtx(t)
	const n = 60
	var actions []*hcloud.Action
	for i := range n {
		res := startServer(t, env, serverSpec{name: fmt.Sprintf("node-%02d", i), labels: map[string]string{"pool": "w"}})
		actions = append(actions, res.Action)
		actions = append(actions, res.NextActions...)
	}
	env.Sim.ResetStats()
	if err := env.Client.Action.WaitFor(ctx, actions...); err != nil {
		t.Fatalf("WaitFor: %v", err)
	}
	st := env.Sim.Stats()
	polls := st.Requests["GET /v1/actions"]
	if polls == 0 {
		t.Fatal("WaitFor made no GET /v1/actions requests")
	}
	// Polling each action on its own would need at least one request per
	// action; batches of 25 ids need far fewer.
	if polls >= int64(len(actions))/2 {
		t.Fatalf("%d GET /v1/actions for %d actions: not batched", polls, len(actions))
	}
	if st.Total != polls {
		t.Fatalf("unexpected other requests during WaitFor: %v", st.Requests)
	}
	t.Logf("%d actions settled with %d GET /v1/actions requests", len(actions), polls)

	all, err := env.Client.Server.AllWithOpts(ctx, hcloud.ServerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: "pool=w"}, Status: []hcloud.ServerStatus{hcloud.ServerStatusRunning}})
	if err != nil || len(all) != n {
		t.Fatalf("AllWithOpts: %d servers, err %v", len(all), err)
	}
}

func TestActionFailureInjection(t *testing.T) {
	env := newEnv(t)
	env.Sim.SetFaults(faultsFailing("create_server"))
	res := startServer(t, env, serverSpec{name: "doomed"})
	err := env.Client.Action.WaitFor(testCtx(t), res.Action)
	var ae hcloud.ActionError
	if !errorsAs(err, &ae) || ae.Code != "action_failed" {
		t.Fatalf("WaitFor err = %v, want ActionError action_failed", err)
	}
	// The server still exists after a failed create (terraform-provider-hcloud #469).
	wait2 := env.Client.Action.WaitForFunc(testCtx(t), func(*hcloud.Action) error { return nil }, res.NextActions...)
	if wait2 != nil {
		t.Fatalf("WaitForFunc: %v", wait2)
	}
	srv := must[*hcloud.Server](t)(env.Client.Server.GetByID(testCtx(t), res.Server.ID))
	if srv == nil || srv.Status != hcloud.ServerStatusOff {
		t.Fatalf("server after failed create: %+v", srv)
	}
	next := must[*hcloud.Action](t)(env.Client.Action.GetByID(testCtx(t), res.NextActions[0].ID))
	if next.Status != hcloud.ActionStatusError {
		t.Fatalf("start_server after failed create_server: %s, want error", next.Status)
	}
}
