package loopback

import "testing"

// Two claims in one process behave like two processes: the sentinel is held,
// so the second claim gets another range, and a released range is free again.
func TestClaimsNeverShareARange(t *testing.T) {
	a, err := Claim(200)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Claim(200)
	if err != nil {
		t.Fatal(err)
	}
	if a.Prefix() == b.Prefix() || a.Prefix().Overlaps(b.Prefix()) {
		t.Fatalf("both claims got %s and %s", a.Prefix(), b.Prefix())
	}
	if got := a.Start(3); !a.Prefix().Contains(got) || got.As4()[2] != 3 || got.As4()[3] != 0 {
		t.Errorf("Start(3) = %s in %s", got, a.Prefix())
	}
	held := a.Prefix()
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	c, err := Claim(int(held.Addr().As4()[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	defer b.Release()
	if c.Prefix() != held {
		t.Errorf("a released range was not reused: got %s, want %s", c.Prefix(), held)
	}
}
