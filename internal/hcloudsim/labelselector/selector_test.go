package labelselector

import "testing"

func TestMatches(t *testing.T) {
	labels := map[string]string{"cluster": "prod", "role": "worker", "hcloud-k8s/pool": "a", "empty": ""}
	tests := []struct {
		selector string
		want     bool
	}{
		{"", true},
		{"   ", true},
		{"cluster=prod", true},
		{"cluster==prod", true},
		{"cluster = prod", true},
		{"cluster=dev", false},
		{"cluster!=dev", true},
		{"missing!=x", true},
		{"cluster", true},
		{"missing", false},
		{"!missing", true},
		{"!cluster", false},
		{"role in (worker,control-plane)", true},
		{"role in (control-plane)", false},
		{"role notin (control-plane)", true},
		{"missing notin (a)", true},
		{"missing in (a)", false},
		{"cluster=prod,role=worker", true},
		{"cluster=prod,role=control-plane", false},
		{"hcloud-k8s/pool=a, role in ( worker , x )", true},
		{"empty=", true},
		{"empty", true},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			sel, err := Parse(tt.selector)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := sel.Matches(labels); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{
		"=a", "a=b=c", "a in b", "a in (b", "a in ()", "-bad=1", "a=b,", ",a", "a b", "!", "a=(b)", "a notin (b,,c)",
		"a=" + string(make([]byte, 70)),
	} {
		t.Run(s, func(t *testing.T) {
			if _, err := Parse(s); err == nil {
				t.Fatalf("Parse(%q) succeeded, want error", s)
			}
		})
	}
}
