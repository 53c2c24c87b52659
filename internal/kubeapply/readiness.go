package kubeapply

import (
	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// state is where an object stands on its way to ready.
type state int

const (
	pending state = iota
	ready
	// failed is final: waiting longer cannot make the object ready.
	failed
)

// readiness judges obj with kstatus (the rules github.com/fluxcd/pkg/ssa
// waits with: Deployments available and updated, DaemonSets rolled out,
// CRDs Established, and the Ready condition of anything else that has one),
// except for Jobs: kstatus counts a running Job as current, Wait needs it
// complete.
func readiness(obj *unstructured.Unstructured) (state, string) {
	if obj.GroupVersionKind().GroupKind() == jobKind {
		return jobReadiness(obj)
	}
	res, err := status.Compute(obj)
	if err != nil {
		return pending, err.Error()
	}
	switch res.Status {
	case status.CurrentStatus:
		return ready, res.Message
	default:
		// Failed is not final here: kstatus reports a crash-looping Pod or a
		// Deployment past its progress deadline as failed, and both can
		// recover while an addon's dependencies come up.
		return pending, string(res.Status) + ": " + res.Message
	}
}

// jobReadiness: ready once the Complete condition is true, failed once the
// Failed condition is.
func jobReadiness(obj *unstructured.Unstructured) (state, string) {
	switch {
	case hasCondition(obj, "Complete"):
		return ready, "Job complete"
	case hasCondition(obj, "Failed"):
		return failed, "Job failed: " + conditionMessage(obj, "Failed")
	}
	return pending, "Job not complete"
}

// hookReadiness is Helm's rule for hooks: a Job must complete, a Pod must
// reach phase Succeeded, anything else is done once created.
func hookReadiness(obj *unstructured.Unstructured) (state, string) {
	switch obj.GroupVersionKind().GroupKind() {
	case jobKind:
		return jobReadiness(obj)
	case podKind:
		phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase")
		switch phase {
		case "Succeeded":
			return ready, "Pod succeeded"
		case "Failed":
			return failed, "Pod failed"
		}
		return pending, "Pod phase " + phase
	}
	return ready, "created"
}

func hasCondition(obj *unstructured.Unstructured, typ string) bool {
	c := condition(obj, typ)
	return c != nil && c["status"] == "True"
}

func conditionMessage(obj *unstructured.Unstructured, typ string) string {
	if c := condition(obj, typ); c != nil {
		msg, _ := c["message"].(string)
		return msg
	}
	return ""
}

func condition(obj *unstructured.Unstructured, typ string) map[string]any {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == typ {
			return m
		}
	}
	return nil
}
