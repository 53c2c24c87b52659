// Command hcloud-k8s-demo runs the local demo: it starts the local world in-process
// (the Hetzner Cloud simulator with rescue SSH, a fake Talos Image Factory, fake
// Talos nodes on the simulated servers, a real kube-apiserver and etcd) and drives
// the real hcloud-k8s binary against it through a whole cluster lifecycle,
// printing each command and its output.
//
//	go build -o /tmp/hcloud-k8s ./cmd/hcloud-k8s
//	go run ./cmd/hcloud-k8s-demo --cli /tmp/hcloud-k8s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/go-logr/logr"
	"github.com/hcloud-k8s/hcloud-k8s/internal/charts"
	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"io"
	"k8s.io/klog/v2"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim"
	"github.com/hcloud-k8s/hcloud-k8s/internal/hcloudsim/loopback"
	"github.com/hcloud-k8s/hcloud-k8s/internal/image/imagetest"
	"github.com/hcloud-k8s/hcloud-k8s/internal/simworld"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	// The Kubernetes client libraries log to stderr on their own (klog's
	// retries, controller-runtime's warning that no logger was set); what
	// matters reaches the user as an error or a progress line instead.
	klog.SetLogger(logr.Discard())
	ctrllog.SetLogger(logr.Discard())
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	cli, dir string
	env      []string
	out      io.Writer
	sim      *hcloudsim.Server
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hcloud-k8s-demo", flag.ContinueOnError)
	cli := fs.String("cli", "", "path of the hcloud-k8s binary to drive (required)")
	speed := fs.Float64("speed", 100, "simulated seconds per real second")
	dir := fs.String("dir", "", "working directory for cluster.yaml (default: a temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cli == "" {
		return errors.New("--cli is required: build it with `go build -o /tmp/hcloud-k8s ./cmd/hcloud-k8s`")
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "hcloud-k8s-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	// The world's own loopback range: another world running on this machine
	// must never answer for this one's servers (internal/hcloudsim/loopback).
	addrs, err := loopback.Claim(loopback.First)
	if err != nil {
		return err
	}
	defer addrs.Release()
	sim := hcloudsim.New(hcloudsim.Options{Speed: *speed, Seed: 1, PublicIPv4Start: addrs.Start(0)})
	if err := sim.Start(ctx); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer sim.Close()
	sshPort, err := sim.ServeRescueSSH(0)
	if err != nil {
		return fmt.Errorf("start rescue SSH: %w", err)
	}
	factory := imagetest.StartFactory()
	defer factory.Close()
	world, err := simworld.StartTalosWorld(ctx, sim, simworld.TalosWorldOptions{TalosImages: simworld.BuiltTalosImages(sim), KubeLogDir: *dir})
	if err != nil {
		return fmt.Errorf("start the fake Talos nodes: %w", err)
	}
	defer world.Close()

	stateDir := filepath.Join(*dir, "state")
	// The CLI waits in the simulator's time (HCLOUD_K8S_SIM_CLOCK), so its
	// poll interval is simulated time too: 100ms of real time, as always.
	poll := time.Duration(float64(100*time.Millisecond) * sim.Clock().Speed())
	d := &demo{cli: *cli, dir: *dir, out: out, sim: sim, env: append(os.Environ(),
		"HCLOUD_ENDPOINT="+sim.Endpoint(), "HCLOUD_TOKEN="+sim.Token(), "HCLOUD_K8S_SIM_CLOCK=1", "HCLOUD_POLL_INTERVAL="+poll.String(),
		"HCLOUD_K8S_IMAGE_FACTORY="+factory.URL(), fmt.Sprintf("HCLOUD_K8S_RESCUE_SSH_PORT=%d", sshPort),
		"XDG_STATE_HOME="+stateDir,
		// The addons' charts come from the world's chart repository on
		// loopback, cached in the demo's directory.
		charts.MirrorEnv+"="+world.ChartMirror(), "XDG_CACHE_HOME="+filepath.Join(*dir, "cache"))}
	realStart := time.Now()
	fmt.Fprintf(out, "Local world: Hetzner Cloud simulator on %s (simulated time runs %.0fx faster),\n", sim.Endpoint(), *speed)
	fmt.Fprintf(out, "fake Talos nodes and strict kubelets on the simulated servers' IPs, a real kube-apiserver, etcd,\n")
	fmt.Fprintf(out, "controller manager and scheduler per cluster, the real hcloud cloud controller manager while its pod runs.\n")

	file := filepath.Join(*dir, "cluster.yaml")
	if err := d.cli_(ctx, "init", "-f", file, "--name", "demo", "--location", "fsn1"); err != nil {
		return err
	}
	// The demo never looks up this machine's public IP: it names the API sources.
	if err := edit(file, "  # apiSource:\n  #   - 203.0.113.7/32", "  apiSource:\n    - 203.0.113.7/32"); err != nil {
		return err
	}
	sim.ResetStats()
	simStart := sim.Elapsed()
	for _, s := range [][]string{{"validate", "-f", file}, {"plan", "-f", file}, {"apply", "-f", file}, {"plan", "-f", file}} {
		if err := d.cli_(ctx, s...); err != nil {
			return err
		}
	}
	kubeconfig := filepath.Join(*dir, "kubeconfig")
	if err := d.cli_(ctx, "kubeconfig", "-f", file, "--write", kubeconfig); err != nil {
		return err
	}
	if err := d.nodes(ctx, kubeconfig); err != nil {
		return err
	}
	if err := d.cli_(ctx, "status", "-f", file); err != nil {
		return err
	}
	d.say("Scaling the workers from 2 to 3")
	if err := edit(file, "    count: 2\n", "    count: 3\n"); err != nil {
		return err
	}
	if err := d.cli_(ctx, "apply", "-f", file); err != nil {
		return err
	}
	if err := d.nodes(ctx, kubeconfig); err != nil {
		return err
	}
	d.say("A workload of 3 pods, guarded by a PodDisruptionBudget (at most 1 unavailable)")
	if err := d.workload(ctx, kubeconfig); err != nil {
		return err
	}
	if err := d.pods(ctx, kubeconfig); err != nil {
		return err
	}
	d.say("A Service of type LoadBalancer: the hcloud cloud controller manager creates a Hetzner load balancer for it")
	if err := d.loadBalancer(ctx, kubeconfig); err != nil {
		return err
	}
	d.say("Scaling the workers back from 3 to 2: demo-worker-3 is drained, its pods move")
	if err := edit(file, "  - name: worker\n    type: cpx32\n    location: fsn1\n    count: 3\n", "  - name: worker\n    type: cpx32\n    location: fsn1\n    count: 2\n"); err != nil {
		return err
	}
	for _, s := range [][]string{{"plan", "-f", file}, {"apply", "-f", file}} {
		if err := d.cli_(ctx, s...); err != nil {
			return err
		}
	}
	if err := d.pods(ctx, kubeconfig); err != nil {
		return err
	}
	if err := d.cli_(ctx, "destroy", "-f", file, "--yes"); err != nil {
		return err
	}
	st := sim.Stats()
	fmt.Fprintf(out, "\nDone: a Talos Kubernetes cluster was built (image, infrastructure, bootstrap, addons), scaled up, given a load balancer, drained down and destroyed.\n")
	fmt.Fprintf(out, "  simulated time: %s   real time: %s   Hetzner API requests by hcloud-k8s: %d\n",
		(sim.Elapsed() - simStart).Round(time.Second), time.Since(realStart).Round(100*time.Millisecond), st.Clients["hcloud-k8s"])
	fmt.Fprintf(out, "  (and by what runs in the cluster: %s)\n", otherClients(st.Clients))
	return nil
}

// nodes prints the cluster's nodes through the written kubeconfig, as
// `kubectl get nodes` would.
func (d *demo) nodes(ctx context.Context, kubeconfig string) error {
	fmt.Fprintf(d.out, "\n$ kubectl --kubeconfig kubeconfig get nodes   # (listed with client-go)\n")
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	tw := tabwriter.NewWriter(d.out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tROLES\tVERSION\tINTERNAL-IP\tEXTERNAL-IP")
	for _, n := range list.Items {
		status, roles, internal, external := "NotReady", "<none>", "", ""
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				status = "Ready"
			}
		}
		if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
			roles = "control-plane"
		}
		for _, a := range n.Status.Addresses {
			switch a.Type {
			case corev1.NodeInternalIP:
				internal = a.Address
			case corev1.NodeExternalIP:
				external = a.Address
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.Name, status, roles, n.Status.NodeInfo.KubeletVersion, internal, external)
	}
	return tw.Flush()
}

func (d *demo) say(msg string) {
	fmt.Fprintf(d.out, "\n==> %s\n", msg)
}

// cli_ runs the hcloud-k8s binary with the simulator's environment.
func (d *demo) cli_(ctx context.Context, args ...string) error {
	fmt.Fprintf(d.out, "\n$ hcloud-k8s %s\n", strings.Join(shortPaths(args, d.dir), " "))
	cmd := exec.CommandContext(ctx, d.cli, args...)
	cmd.Env = d.env
	cmd.Dir = d.dir
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hcloud-k8s %s: %w", args[0], err)
	}
	return nil
}

func shortPaths(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.TrimPrefix(strings.TrimPrefix(a, dir), "/")
	}
	return out
}

func edit(file, from, to string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), from) {
		return fmt.Errorf("%s does not contain %q", file, from)
	}
	return os.WriteFile(file, []byte(strings.Replace(string(data), from, to, 1)), 0o600)
}

// client is a client of the cluster through the written kubeconfig.
func client(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(rc)
}

// workload starts a Deployment of three pods with a PodDisruptionBudget, as
// `kubectl apply` of a small manifest would, and waits until all run.
func (d *demo) workload(ctx context.Context, kubeconfig string) error {
	fmt.Fprintf(d.out, "\n$ kubectl --kubeconfig kubeconfig apply -f web.yaml   # Deployment web (3 replicas) + PodDisruptionBudget web (maxUnavailable 1)\n")
	cs, err := client(kubeconfig)
	if err != nil {
		return err
	}
	replicas, one := int32(3), intstr.FromInt(1)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.k8s.io/pause:3.10"}}}}},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Deployment web: %w", err)
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &one, Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}
	if _, err := cs.PolicyV1().PodDisruptionBudgets("default").Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create PodDisruptionBudget web: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && got.Status.ReadyReplicas == replicas {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Deployment web: not ready after a minute (%v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// pods prints the workload's pods and their nodes, as `kubectl get pods -o
// wide` would.
func (d *demo) pods(ctx context.Context, kubeconfig string) error {
	fmt.Fprintf(d.out, "\n$ kubectl --kubeconfig kubeconfig get pods -o wide   # (listed with client-go)\n")
	cs, err := client(kubeconfig)
	if err != nil {
		return err
	}
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Spec.NodeName < list.Items[j].Spec.NodeName })
	tw := tabwriter.NewWriter(d.out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tNODE")
	for _, p := range list.Items {
		status := string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			status = "Terminating"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, status, p.Spec.NodeName)
	}
	return tw.Flush()
}

// loadBalancer exposes the workload with a Service of type LoadBalancer and
// waits until the cloud controller manager gave it an address: the
// simulator's load balancer, which the CCM created, with the workers as
// targets.
func (d *demo) loadBalancer(ctx context.Context, kubeconfig string) error {
	fmt.Fprintf(d.out, "\n$ kubectl --kubeconfig kubeconfig expose deployment web --type LoadBalancer --port 80\n")
	cs, err := client(kubeconfig)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt(80)}}},
	}
	if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create Service web: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, err := cs.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
		if err == nil && len(got.Status.LoadBalancer.Ingress) > 0 {
			var ips []string
			for _, in := range got.Status.LoadBalancer.Ingress {
				ips = append(ips, in.IP)
			}
			fmt.Fprintf(d.out, "\n$ kubectl --kubeconfig kubeconfig get service web\nNAME   TYPE           EXTERNAL-IP   PORT(S)\nweb    LoadBalancer   %s   80\n", strings.Join(ips, ","))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("Service web: no load balancer address after 2 minutes (%v)", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	api := hcloud.NewClient(hcloud.WithEndpoint(d.sim.Endpoint()), hcloud.WithToken(d.sim.Token()), hcloud.WithApplication("hcloud-k8s-demo", "0"))
	lbs, err := api.LoadBalancer.AllWithOpts(ctx, hcloud.LoadBalancerListOpts{ListOpts: hcloud.ListOpts{LabelSelector: "hcloud-ccm/service-uid"}})
	if err != nil {
		return fmt.Errorf("list the CCM's load balancers: %w", err)
	}
	for _, lb := range lbs {
		fmt.Fprintf(d.out, "  Hetzner load balancer %s (created by the CCM): %d targets, public IP %s\n", lb.Name, len(lb.Targets), lb.PublicNet.IPv4.IP)
	}
	return nil
}

// otherClients lists the requests of the cluster's own Hetzner clients (the
// CCM, the CSI stand-in), which a real cluster makes too.
func otherClients(clients map[string]int64) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(clients)) {
		if name != "hcloud-k8s" {
			parts = append(parts, fmt.Sprintf("%s %d", name, clients[name]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
