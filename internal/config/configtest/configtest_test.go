package configtest

import "testing"

func TestDemoLoads(t *testing.T) {
	c := Load(t, Demo(), nil)
	if c.Cluster.Name != "demo" || len(c.ControlPlaneNodepools) != 1 || c.ControlPlaneNodepools[0].Count != 3 {
		t.Fatalf("demo fixture parsed to %+v", c)
	}
	if got := c.WorkerNodepools[0].Labels["tier"]; got != "general" {
		t.Fatalf("worker label tier = %q, want general", got)
	}
}
