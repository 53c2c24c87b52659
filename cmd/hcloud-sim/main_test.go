package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunPrintsEnvAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--token", "secret", "--speed", "50", "--no-rate-limit"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "HCLOUD_ENDPOINT=http://127.0.0.1:") || !strings.HasSuffix(lines[0], "/v1") || lines[1] != "HCLOUD_TOKEN=secret" {
		t.Fatalf("first lines = %q", lines)
	}
	endpoint := strings.TrimPrefix(lines[0], "HCLOUD_ENDPOINT=")
	req, _ := http.NewRequest(http.MethodGet, endpoint+"/server_types?name=cx22", nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("simulator did not stop")
	}
}

func TestRunHelpAndBadListen(t *testing.T) {
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, io.Discard, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "HCLOUD_ENDPOINT") || !strings.Contains(stderr.String(), "--speed") && !strings.Contains(stderr.String(), "-speed") {
		t.Fatalf("help text: %s", stderr.String())
	}
	if err := run(context.Background(), []string{"--listen", "0.0.0.0:0"}, io.Discard, io.Discard); err == nil {
		t.Fatal("non-loopback listen address accepted")
	}
}

// Two simulators on one machine hand out different addresses: each claims its
// own loopback range, so one world's fake nodes never answer for the other's.
func TestTwoSimulatorsGetTheirOwnAddresses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rangeOf := func() (string, chan error) {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"--no-rate-limit"}, io.Discard, pw)
			pw.Close()
		}()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if r, ok := strings.CutPrefix(sc.Text(), "hcloud-sim: simulated public IPv4 addresses are in "); ok {
				go io.Copy(io.Discard, pr) // keep the simulator's stderr flowing
				return r, done
			}
		}
		t.Fatal("the simulator never said which addresses it hands out")
		return "", done
	}
	a, doneA := rangeOf()
	b, doneB := rangeOf()
	if a == b || !strings.HasPrefix(a, "127.") || !strings.HasSuffix(a, ".0.0/16") {
		t.Errorf("ranges %s and %s", a, b)
	}
	cancel()
	for _, done := range []chan error{doneA, doneB} {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("simulator did not stop")
		}
	}
}
