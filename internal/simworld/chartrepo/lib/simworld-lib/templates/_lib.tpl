{{/*
simworld-lib: helpers of our own, shared by the simulated world's charts.
A library chart renders nothing itself; its defines are visible to the
chart that vendors it.
*/}}

{{/*
simworld-lib.labels: the recommended app.kubernetes.io labels of an object.
Takes a dict: ctx (the root context), name, and optionally component.
*/}}
{{- define "simworld-lib.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | default .ctx.Chart.Version | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/*
simworld-lib.selector: the labels that select a component's pods; a subset
of simworld-lib.labels that never changes between versions.
*/}}
{{- define "simworld-lib.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end -}}

{{/*
simworld-lib.spread: topology spread constraints, each without a
labelSelector given the one passed as selector (a YAML string), the way
the charts we stand in for fill it in. Takes a dict: constraints, selector.
*/}}
{{- define "simworld-lib.spread" -}}
{{- range .constraints }}
{{- $c := . }}
{{- if not (hasKey $c "labelSelector") }}
{{- $c = merge (dict "labelSelector" (dict "matchLabels" (fromYaml $.selector))) $c }}
{{- end }}
- {{ toYaml $c | nindent 2 | trim }}
{{- end }}
{{- end -}}

{{/*
simworld-lib.pdb: a PodDisruptionBudget. Takes a dict: ctx, name, labels and
selector (YAML strings), budget (a map with minAvailable and/or
maxUnavailable; a null or empty one is left out).
*/}}
{{- define "simworld-lib.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .ctx.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  {{- with .budget.minAvailable }}
  minAvailable: {{ . }}
  {{- end }}
  {{- with .budget.maxUnavailable }}
  maxUnavailable: {{ . }}
  {{- end }}
  selector:
    matchLabels:
      {{- .selector | nindent 6 }}
{{- end -}}
