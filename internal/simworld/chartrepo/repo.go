package chartrepo

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Options choose what the repository serves.
type Options struct {
	// Charts limits the repository to these of Names(); empty serves every
	// chart.
	Charts []string
	// Extra are more chart archives to serve (a test's own chart, another
	// version of one of ours), each a .tgz as helm package writes it; its
	// Chart.yaml gives the name and version. An extra archive with the
	// name and version of one of ours replaces it.
	Extra [][]byte
}

// Repo is a running repository: one loopback listener answering both the
// chart repository (under /charts/) and the OCI registry (under /v2/).
type Repo struct {
	archives []Archive
	addr     string
	srv      *http.Server
	done     chan struct{}
	stop     func() bool
	once     sync.Once
}

// repoPath is the path of the chart repository and the OCI namespace alike:
// http://host/charts/index.yaml and oci://host/charts/<name>.
const repoPath = "charts"

// Start packages the charts and serves them on 127.0.0.1 at a port of the
// system's choosing until Close, or until ctx ends.
func Start(ctx context.Context, opts Options) (*Repo, error) {
	archives, err := Archives(opts.Charts...)
	if err != nil {
		return nil, err
	}
	for i, b := range opts.Extra {
		c, err := loader.LoadArchive(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("extra chart %d: %w", i, err)
		}
		a := Archive{Name: c.Metadata.Name, Version: c.Metadata.Version, Data: b}
		archives = replaceOrAdd(archives, a)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("chart repository: listen: %w", err)
	}
	r := &Repo{archives: archives, addr: l.Addr().String(), done: make(chan struct{})}
	mux := http.NewServeMux()
	idx, err := newHTTPRepo(archives, "/"+repoPath)
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	reg, err := newRegistry(archives, repoPath)
	if err != nil {
		_ = l.Close()
		return nil, err
	}
	mux.Handle("/"+repoPath+"/", idx)
	mux.Handle("/"+repoPath+"/"+manifestsDir+"/", serveManifests("/"+repoPath))
	mux.Handle("/v2/", reg)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(l)
	}()
	r.stop = context.AfterFunc(ctx, r.Close)
	return r, nil
}

func replaceOrAdd(archives []Archive, a Archive) []Archive {
	for i, have := range archives {
		if have.Name == a.Name && have.Version == a.Version {
			archives[i] = a
			return archives
		}
	}
	return append(archives, a)
}

// HTTPURL is the chart repository, http://127.0.0.1:port/charts: a
// repository URL and a mirror for the charts package alike.
func (r *Repo) HTTPURL() string { return "http://" + r.addr + "/" + repoPath }

// OCIURL is the registry namespace holding every chart,
// oci://127.0.0.1:port/charts (chart <name> is oci://…/charts/<name>).
func (r *Repo) OCIURL() string { return "oci://" + r.addr + "/" + repoPath }

// Addr is the listener's host:port.
func (r *Repo) Addr() string { return r.addr }

// Archives are what the repository serves.
func (r *Repo) Archives() []Archive { return append([]Archive(nil), r.archives...) }

// Close stops the server, ending requests in flight, and waits for it.
func (r *Repo) Close() {
	r.once.Do(func() {
		if r.stop != nil {
			r.stop()
		}
		// Close only fails with the listener's own close error, after
		// which nothing is served either.
		_ = r.srv.Close()
		<-r.done
	})
}
