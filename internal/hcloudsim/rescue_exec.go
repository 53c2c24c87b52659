package hcloudsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/clock"
)

// The rescue system's command interpreter: exactly the commands an image
// builder sends (the module's Packer provisioner), with the exit statuses
// and messages of the real tools where it matters:
//
//	blkdiscard -v /dev/sda
//	set -euo pipefail; wget … -O - '<url>' | xz -T0 -dc | dd of=/dev/sda bs=1M …
//	sync
//	poweroff
//
// Commands are separated by ";" and connected by "|"; single and double
// quotes work; other shell syntax fails with status 2, unknown commands with
// 127 like bash. wget only fetches from loopback hosts: tests never leave
// the machine, and a simulated server has no internet.

// Simulated durations of rescue commands, measured on the simulator's clock.
const (
	rescueDiscardTime = 2 * time.Second
	rescueWriteTime   = 20 * time.Second
	rescueSyncTime    = time.Second
)

type rescueResult struct {
	stdout, stderr []byte
	status         int
	poweroff       bool
}

// rescueShell runs one exec request of one rescue session.
type rescueShell struct {
	s        *Server
	ctx      context.Context
	serverID int64
	boot     int
	stderr   bytes.Buffer
	errexit  bool
	pipefail bool
	poweroff bool
}

func (s *Server) runRescueCommand(ctx context.Context, l *rescueListener, command string) rescueResult {
	sh := &rescueShell{s: s, ctx: ctx, serverID: l.serverID, boot: l.boot}
	var stdout bytes.Buffer
	status := sh.run(command, &stdout)
	return rescueResult{stdout: stdout.Bytes(), stderr: sh.stderr.Bytes(), status: status, poweroff: sh.poweroff}
}

func (sh *rescueShell) errf(format string, args ...any) {
	fmt.Fprintf(&sh.stderr, format, args...)
}

func (sh *rescueShell) run(command string, stdout *bytes.Buffer) int {
	seq, err := parseRescueCommand(command)
	if err != nil {
		sh.errf("bash: line 1: %v\n", err)
		return 2
	}
	status := 0
	for _, pipeline := range seq {
		status = sh.pipeline(pipeline, stdout)
		if sh.poweroff || (sh.errexit && status != 0) {
			break
		}
	}
	return status
}

func (sh *rescueShell) pipeline(stages [][]string, stdout *bytes.Buffer) int {
	var data []byte
	status := 0
	for _, argv := range stages {
		out, st := sh.exec(argv, data)
		data = out
		if sh.pipefail {
			if st != 0 {
				status = st
			}
		} else {
			status = st
		}
	}
	stdout.Write(data)
	return status
}

func (sh *rescueShell) exec(argv []string, stdin []byte) ([]byte, int) {
	switch argv[0] {
	case "set":
		return nil, sh.set(argv[1:])
	case "blkdiscard":
		return sh.blkdiscard(argv[1:])
	case "wget":
		return sh.wget(argv[1:])
	case "xz":
		return sh.xz(argv[1:], stdin)
	case "dd":
		return nil, sh.dd(argv[1:], stdin)
	case "sync":
		return nil, sh.sleep(rescueSyncTime)
	case "poweroff":
		return nil, sh.doPoweroff()
	}
	sh.errf("bash: line 1: %s: command not found\n", argv[0])
	return nil, 127
}

func (sh *rescueShell) set(args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-o" || a == "+o" {
			if i+1 >= len(args) || args[i+1] != "pipefail" {
				sh.errf("bash: set: option not supported by the hcloudsim rescue shell\n")
				return 2
			}
			sh.pipefail = a == "-o"
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			sh.errf("bash: set: %s: positional parameters are not supported\n", a)
			return 2
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'e':
				sh.errexit = true
			case 'u', 'x':
			case 'o':
				if i+1 >= len(args) || args[i+1] != "pipefail" || j != len(a)-1 {
					sh.errf("bash: set: -o: option not supported by the hcloudsim rescue shell\n")
					return 2
				}
				sh.pipefail = true
				i++
			default:
				sh.errf("bash: set: -%c: invalid option\n", a[j])
				return 2
			}
		}
	}
	return 0
}

// withServer runs fn with the simulation settled and the server still in
// this rescue boot; ok is false if it is not.
func (sh *rescueShell) withServer(fn func(sv *server, x *simExtras)) bool {
	s := sh.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	sv, ok := s.inRescueBoot(sh.serverID, sh.boot)
	if ok {
		fn(sv, s.extras())
	}
	return ok
}

// sleep lets d pass on the simulator's clock (scaled to real time).
func (sh *rescueShell) sleep(d time.Duration) int {
	t := time.NewTimer(clock.RealDuration(sh.s.clock, d))
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-sh.ctx.Done():
		return 130
	}
}

func (sh *rescueShell) blkdiscard(args []string) ([]byte, int) {
	verbose := false
	var dev []string
	for _, a := range args {
		switch {
		case a == "-v" || a == "--verbose":
			verbose = true
		case a == "-f" || a == "--force":
		case strings.HasPrefix(a, "-"):
			sh.errf("blkdiscard: unrecognized option '%s'\nTry 'blkdiscard --help' for more information.\n", a)
			return nil, 1
		default:
			dev = append(dev, a)
		}
	}
	if len(dev) != 1 {
		sh.errf("blkdiscard: no device specified\nTry 'blkdiscard --help' for more information.\n")
		return nil, 1
	}
	if dev[0] != "/dev/sda" {
		sh.errf("blkdiscard: cannot open %s: No such file or directory\n", dev[0])
		return nil, 1
	}
	if st := sh.sleep(rescueDiscardTime); st != 0 {
		return nil, st
	}
	var size int64
	if !sh.withServer(func(sv *server, x *simExtras) {
		size = int64(sv.primaryDisk) << 30
		x.discardDisk(sv.ID)
	}) {
		sh.errf("blkdiscard: /dev/sda: BLKDISCARD ioctl failed: Input/output error\n")
		return nil, 1
	}
	if verbose {
		return fmt.Appendf(nil, "/dev/sda: Discarded %d bytes from the offset 0\n", size), 0
	}
	return nil, 0
}

func (sh *rescueShell) wget(args []string) ([]byte, int) {
	var (
		rawURL, output string
		quiet          bool
		tries          = 20
		timeout        = 900 * time.Second
		waitRetry      = 10 * time.Second
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch {
		case a == "-q" || a == "--quiet":
			quiet = true
		case a == "--retry-connrefused" || a == "-4" || a == "--inet4-only":
		case a == "-O":
			if i+1 >= len(args) {
				sh.errf("wget: option requires an argument -- 'O'\n")
				return nil, 2
			}
			i++
			output = args[i]
		case strings.HasPrefix(a, "-O"):
			output = a[2:]
		case hasVal && (name == "--timeout" || name == "--waitretry" || name == "--tries" || name == "-T" || name == "-t"):
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				sh.errf("wget: %s: Invalid number %q.\n", name, val)
				return nil, 2
			}
			switch name {
			case "--timeout", "-T":
				timeout = time.Duration(n) * time.Second
			case "--waitretry":
				waitRetry = time.Duration(n) * time.Second
			default:
				tries = n
			}
		case hasVal && name == "--output-document":
			output = val
		case strings.HasPrefix(a, "-"):
			sh.errf("wget: unrecognized option '%s'\nUsage: wget [OPTION]... [URL]...\n", a)
			return nil, 2
		default:
			if rawURL != "" {
				sh.errf("hcloudsim rescue: wget: only one URL per call is supported\n")
				return nil, 1
			}
			rawURL = a
		}
	}
	_ = quiet // --quiet: no progress output; the simulator prints none anyway
	if rawURL == "" {
		sh.errf("wget: missing URL\nUsage: wget [OPTION]... [URL]...\n")
		return nil, 1
	}
	if output != "-" {
		sh.errf("hcloudsim rescue: wget: only -O - (write to stdout) is supported\n")
		return nil, 1
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		sh.errf("%s: Invalid URL %s: Unsupported scheme\n", rawURL, rawURL)
		return nil, 1
	}
	if err := rescueLoopbackHost(u.Host); err != nil {
		// Always printed, --quiet or not: this is the simulator's limit.
		sh.errf("wget: hcloudsim rescue refuses to fetch %s: %v\n", rawURL, err)
		return nil, 4
	}
	if tries <= 0 {
		tries = 1
	}
	var lastStatus int
	for attempt := 1; attempt <= tries; attempt++ {
		body, status, retry := sh.fetch(u.String(), timeout)
		if status == 0 {
			return body, 0
		}
		lastStatus = status
		if !retry || attempt == tries {
			break
		}
		if st := sh.sleep(min(waitRetry, time.Duration(attempt)*time.Second)); st != 0 {
			return nil, st
		}
	}
	return nil, lastStatus
}

// fetch GETs a loopback URL. Status follows wget: 4 network failure, 8 an
// HTTP error response; retry says whether another try may help.
func (sh *rescueShell) fetch(rawURL string, timeout time.Duration) (body []byte, status int, retry bool) {
	ctx, cancel := context.WithTimeout(sh.ctx, max(timeout, time.Second)*3)
	defer cancel()
	dialer := &net.Dialer{Timeout: max(timeout, time.Second)}
	client := &http.Client{
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if err := rescueLoopbackHost(addr); err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, "tcp4", addr)
			},
			ResponseHeaderTimeout: max(timeout, time.Second),
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 20 {
				return errors.New("20 redirections exceeded")
			}
			return rescueLoopbackHost(req.URL.Host)
		},
	}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, 4, false
	}
	req.Header.Set("User-Agent", "Wget/1.21.3")
	resp, err := client.Do(req)
	if err != nil {
		var hostErr *rescueHostError
		if errors.As(err, &hostErr) {
			sh.errf("wget: hcloudsim rescue refuses to follow a redirect: %v\n", err)
			return nil, 4, false
		}
		return nil, 4, true
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 8, resp.StatusCode >= 500
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxDiskContent+1))
	if err != nil {
		return nil, 4, true
	}
	return body, 0, false
}

type rescueHostError struct{ host string }

func (e *rescueHostError) Error() string {
	return fmt.Sprintf("host %q is not a loopback address (the simulator only fetches from 127.0.0.0/8, ::1 and localhost)", e.host)
}

// rescueLoopbackHost accepts "host" or "host:port" naming loopback.
func rescueLoopbackHost(hostport string) error {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return &rescueHostError{host: host}
}

func (sh *rescueShell) xz(args []string, stdin []byte) ([]byte, int) {
	decompress, toStdout := false, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--decompress":
			decompress = true
		case a == "--stdout":
			toStdout = true
		case a == "-T" || a == "--threads":
			i++
		case strings.HasPrefix(a, "--threads=") || (strings.HasPrefix(a, "-T") && len(a) > 2):
		case strings.HasPrefix(a, "-") && len(a) > 1 && !strings.HasPrefix(a, "--"):
			for _, f := range a[1:] {
				switch f {
				case 'd':
					decompress = true
				case 'c':
					toStdout = true
				case 'k', 'q', 'v', 'f':
				default:
					sh.errf("xz: invalid option -- '%c'\n", f)
					return nil, 1
				}
			}
		default:
			sh.errf("hcloudsim rescue: xz: only stdin is supported, not %q\n", a)
			return nil, 1
		}
	}
	if !decompress {
		sh.errf("hcloudsim rescue: xz: only decompression (-d) is supported\n")
		return nil, 1
	}
	_ = toStdout // reading stdin always writes stdout
	out, err := xzDecode(stdin)
	if err != nil {
		sh.errf("xz: (stdin): %v\n", err)
		return nil, 1
	}
	return out, 0
}

func (sh *rescueShell) dd(args []string, stdin []byte) int {
	of, quiet := "", false
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			sh.errf("dd: unrecognized operand '%s'\n", a)
			return 1
		}
		switch k {
		case "of":
			of = v
		case "status":
			quiet = v == "none"
		case "bs", "ibs", "obs", "iflag", "oflag", "conv":
		case "if":
			sh.errf("hcloudsim rescue: dd: only standard input is supported (no if=)\n")
			return 1
		default:
			sh.errf("dd: unrecognized operand '%s'\n", a)
			return 1
		}
	}
	if of != "/dev/sda" {
		sh.errf("dd: failed to open '%s': No such file or directory\n", of)
		return 1
	}
	if len(stdin) > maxDiskContent {
		sh.errf("dd: error writing '/dev/sda': No space left on device (the simulated disk holds %d MiB)\n", maxDiskContent>>20)
		return 1
	}
	if st := sh.sleep(rescueWriteTime); st != 0 {
		return st
	}
	if !sh.withServer(func(sv *server, x *simExtras) { x.writeDisk(sv.ID, stdin) }) {
		sh.errf("dd: error writing '/dev/sda': Input/output error\n")
		return 1
	}
	if !quiet {
		recs := (len(stdin) + 511) / 512
		sh.errf("%d+0 records in\n%d+0 records out\n%d bytes copied, %.1f s\n", recs, recs, len(stdin), rescueWriteTime.Seconds())
	}
	return 0
}

// doPoweroff shuts the rescue system down: the session reports success, then
// SSH stops (serveRescueSession) and the server is off after the stop latency.
func (sh *rescueShell) doPoweroff() int {
	s := sh.s
	ok := sh.withServer(func(sv *server, _ *simExtras) {
		boot := sv.bootCount
		s.st.events.schedule(s.clock.Now().Add(s.latency.ServerPowerOff), func(time.Time) {
			if sv.bootCount == boot && sv.status == statusRunning {
				sv.status = statusOff
				sv.inRescue = false
			}
		})
	})
	if !ok {
		sh.errf("poweroff: the server is not in the rescue system\n")
		return 1
	}
	sh.poweroff = true
	return 0
}

// parseRescueCommand splits a command line into ";"-separated pipelines of
// "|"-separated argument vectors.
func parseRescueCommand(line string) ([][][]string, error) {
	var (
		seq      [][][]string
		pipeline [][]string
		argv     []string
		word     strings.Builder
		inWord   bool
	)
	endWord := func() {
		if inWord {
			argv = append(argv, word.String())
			word.Reset()
			inWord = false
		}
	}
	endStage := func() error {
		endWord()
		if len(argv) == 0 {
			return errors.New("syntax error near unexpected token `|'")
		}
		pipeline = append(pipeline, argv)
		argv = nil
		return nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unexpected EOF while looking for matching `''")
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				if strings.ContainsRune("$`", rune(line[i])) {
					return nil, fmt.Errorf("%q inside double quotes is not supported by the hcloudsim rescue shell", line[i])
				}
				if line[i] == '\\' && i+1 < len(line) && strings.ContainsRune(`"\`, rune(line[i+1])) {
					i++
				}
				word.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New("unexpected EOF while looking for matching `\"'")
			}
			inWord = true
		case c == '\\' && i+1 < len(line):
			i++
			word.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			endWord()
		case c == '|' && (i+1 >= len(line) || line[i+1] != '|'):
			if err := endStage(); err != nil {
				return nil, err
			}
		case c == ';' || c == '\n':
			endWord()
			if len(argv) == 0 && len(pipeline) == 0 {
				continue
			}
			if err := endStage(); err != nil {
				return nil, err
			}
			seq = append(seq, pipeline)
			pipeline = nil
		case strings.IndexByte("&|<>()$`{}*?!#~", c) >= 0:
			return nil, fmt.Errorf("%q is not supported by the hcloudsim rescue shell", c)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	if len(argv) > 0 || len(pipeline) > 0 {
		if err := endStage(); err != nil {
			return nil, err
		}
		seq = append(seq, pipeline)
	}
	return seq, nil
}
