package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hcloud-k8s/hcloud-k8s/internal/config/configtest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/simtest"
)

// A command stopped by a signal says which signal and what to do next, in one
// line, instead of "context canceled".
func TestInterruptedCommandsSayWhatToDo(t *testing.T) {
	sim := simtest.New(t, hcloudsim.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(file, []byte(configtest.Demo().YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envEndpoint: sim.Endpoint, envToken: sim.Token, envPollInterval: "20ms", "XDG_STATE_HOME": dir}
	cases := []struct {
		args []string
		sig  os.Signal
		want string
	}{
		{[]string{"apply", "-f", file}, os.Interrupt, "Error: interrupted (SIGINT): nothing was rolled back; run apply again to continue\n"},
		{[]string{"destroy", "--yes", "-f", file}, syscall.SIGTERM, "Error: interrupted (SIGTERM): nothing was restored; run destroy again to delete the rest\n"},
		{[]string{"plan", "-f", file}, os.Interrupt, "Error: interrupted (SIGINT)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.args[0], func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(Interrupted{Signal: tc.sig})
			var out, errb bytes.Buffer
			e := Env{
				Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
				Getenv: func(k string) string { return env[k] }, HTTPClient: simtest.LoopbackHTTPClient(t),
			}
			if code := Execute(ctx, e, tc.args); code == 0 {
				t.Fatalf("exit 0 after an interrupt; stderr:\n%s", errb.String())
			}
			if got := lastLine(errb.String()); got != tc.want {
				t.Errorf("last stderr line = %q, want %q", got, tc.want)
			}
		})
	}
}

// Errors that are not interruptions keep their text, also when the context
// was cancelled for another reason.
func TestExplainInterruptLeavesOtherErrorsAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := explainInterrupt(ctx, "apply", context.Canceled); err != context.Canceled {
		t.Errorf("a plain cancellation became %q", err)
	}
	ictx, icancel := context.WithCancelCause(context.Background())
	icancel(Interrupted{Signal: os.Interrupt})
	wrapped := fmt.Errorf("list servers: Get \"http://127.0.0.1/v1/servers\": %w", Interrupted{Signal: os.Interrupt})
	if got, want := fmt.Sprint(explainInterrupt(ictx, "apply", wrapped)), "interrupted (SIGINT): nothing was rolled back; run apply again to continue"; got != want {
		t.Errorf("a request cut off by the signal reads %q, want %q", got, want)
	}
	other := os.ErrPermission
	if err := explainInterrupt(ictx, "apply", other); err != other {
		t.Errorf("an unrelated error became %q", err)
	}
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:] + "\n"
}

// A state directory others can read is made private, with a warning, before
// any command uses it.
func TestLooseStateDirectoryIsTightened(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "hcloud-k8s", "demo")
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(file, []byte(configtest.Demo().YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, dir, map[string]string{"XDG_STATE_HOME": dir}, "kubeconfig", "-f", file)
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode = %04o, want 0700", fi.Mode().Perm())
	}
	if want := "Warning: state directory " + state + " had mode 0755; changed it to 0700"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if r2 := run(t, dir, map[string]string{"XDG_STATE_HOME": dir}, "kubeconfig", "-f", file); strings.Contains(r2.stderr, "Warning") {
		t.Errorf("warned again about a directory that is already private:\n%s", r2.stderr)
	}
}
