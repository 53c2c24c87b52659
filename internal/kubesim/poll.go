package kubesim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// errNotReady is returned by pollOK when the timeout passes.
var errNotReady = errors.New("not ready")

// pollOK GETs each of urls in turn, every 100 ms, until it answers 200 and
// accept (if set) takes the body. It stops early when exited reports an
// error or ctx ends, and returns errNotReady once timeout has passed. last
// describes the last answer, for error messages.
func pollOK(ctx context.Context, client *http.Client, urls []string, accept func(body []byte) error,
	exited func() error, timeout time.Duration) (last string, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last = "no answer yet"
	for len(urls) > 0 {
		if err := exited(); err != nil {
			return last, err
		}
		if last = get(ctx, client, urls[0], accept); last == "" {
			urls = urls[1:]
			continue
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-deadline.C:
			return last, errNotReady
		case <-tick.C:
		}
	}
	return "", nil
}

// get returns "" when url answers 200 and accept takes the body, else what
// it answered.
func get(ctx context.Context, client *http.Client, url string, accept func([]byte) error) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Sprintf("GET %s: %v", url, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET %s: %s: %.4096s", url, resp.Status, bytes.TrimSpace(body))
	}
	if accept != nil {
		if err := accept(body); err != nil {
			return fmt.Sprintf("GET %s: %v", url, err)
		}
	}
	return ""
}
