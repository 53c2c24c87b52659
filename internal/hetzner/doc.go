// Package hetzner is the thin foundation every layer of hcloud-k8s uses to
// talk to the Hetzner Cloud API. It wraps hcloud-go rather than hiding it:
// callers still use the typed hcloud-go clients through Client.API, but all of
// their requests flow through one place that
//
//   - shares a single request budget with the in-cluster controllers (CCM,
//     CSI driver, autoscaler spend from the same 3600 requests/hour bucket),
//     pacing requests when the bucket runs low and waiting out 429s;
//   - counts every request by phase and endpoint template, for --debug and
//     benchmarks;
//   - waits for actions with one batched poller instead of one loop per
//     action;
//   - classifies errors so callers can decide between retry, adopt and fail,
//     and retries only what is safe to retry, a bounded number of times;
//   - discovers a cluster's resources with one label-selector list call per
//     resource kind.
package hetzner
