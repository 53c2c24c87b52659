package formation

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"time"
)

// Progress while waiting for a node's Talos API: the first line after
// waitSayAfter, then one whenever the answer changes or waitSayEvery has
// passed, so that a long wait says what is going on without flooding.
const (
	waitSayAfter = 30 * time.Second
	waitSayEvery = 2 * time.Minute
)

// waitReporter says, at a calm rate, what the attempts to reach one node
// return while apply waits for it.
type waitReporter struct {
	s       *State
	n       Node
	started time.Time
	said    time.Time // zero until the first line
	last    string    // what the last attempt returned
	lastSay string
}

func (s *State) newWaitReporter(n Node) *waitReporter {
	return &waitReporter{s: s, n: n, started: s.in.Clock.Now(), last: "no attempt yet"}
}

// attempt records what one attempt returned ("" when the node answered).
func (w *waitReporter) attempt(why string) {
	if why == "" {
		return
	}
	w.last = why
	now := w.s.in.Clock.Now()
	waited := now.Sub(w.started)
	switch {
	case waited < waitSayAfter:
		return
	case !w.said.IsZero() && why == w.lastSay && now.Sub(w.said) < waitSayEvery:
		return
	case !w.said.IsZero() && now.Sub(w.said) < waitSayAfter:
		return // the answer flaps: still calm
	}
	w.said, w.lastSay = now, why
	w.s.say("… still waiting for the Talos API of %s (%s:50000) after %s: %s", w.n.Name, w.n.PublicIPv4, waited.Round(time.Second), why)
}

// describeAttempt says in words why neither the mTLS nor the maintenance
// attempt got an answer.
func describeAttempt(mtlsErr, maintErr error) string {
	switch {
	case refused(mtlsErr) && refused(maintErr):
		return "nothing listens there yet (connection refused)"
	case timedOut(mtlsErr) && timedOut(maintErr):
		return "no answer (timed out; a firewall, or the server is still booting)"
	case unknownAuthority(mtlsErr) && !refused(maintErr) && !timedOut(maintErr):
		// It speaks TLS with a certificate of another CA, and without a
		// client certificate it does not answer either: a configured node,
		// but not of this cluster.
		return "a configured Talos node answers, but with a certificate of another cluster's CA: another cluster (or another local world) holds this address"
	case unknownAuthority(mtlsErr) || tlsTrouble(mtlsErr):
		return "TLS handshake failed: " + shortError(mtlsErr)
	}
	return shortError(maintErr)
}

// gRPC folds dial errors into status messages, so these look at the text
// as well as at the wrapped errors.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(errText(err), "connection refused")
}

func timedOut(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(errText(err), "deadline exceeded") || strings.Contains(errText(err), "i/o timeout")
}

func unknownAuthority(err error) bool {
	return strings.Contains(errText(err), "certificate signed by unknown authority")
}

func tlsTrouble(err error) bool {
	t := errText(err)
	return strings.Contains(t, "tls:") || strings.Contains(t, "x509:")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// shortError is the last, most specific part of a gRPC error text.
func shortError(err error) string {
	t := errText(err)
	if i := strings.LastIndex(t, "desc = "); i >= 0 {
		t = strings.Trim(t[i+len("desc = "):], `"`)
	}
	if len(t) > 160 {
		t = t[:160] + "…"
	}
	return t
}
