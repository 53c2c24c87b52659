{{/* Labels of the agent's objects and pods, as the real chart sets them. */}}
{{- define "cilium.agentLabels" -}}
k8s-app: cilium
app.kubernetes.io/part-of: cilium
app.kubernetes.io/name: cilium-agent
{{- end -}}

{{/* Labels of the operator's objects and pods. */}}
{{- define "cilium.operatorLabels" -}}
io.cilium/app: operator
name: cilium-operator
app.kubernetes.io/part-of: cilium
app.kubernetes.io/name: cilium-operator
{{- end -}}

{{/* What selects the operator's pods (kept stable across upgrades). */}}
{{- define "cilium.operatorSelector" -}}
io.cilium/app: operator
name: cilium-operator
{{- end -}}

{{/* The encryption in use: "ipsec", "wireguard" or "". */}}
{{- define "cilium.encryption" -}}
{{- if .Values.encryption.enabled }}{{ .Values.encryption.type }}{{ end -}}
{{- end -}}

{{/* Whether ServiceMonitors are rendered: asked for, and either the
cluster serves monitoring.coreos.com/v1 or the user vouches it will. */}}
{{- define "cilium.serviceMonitors" -}}
{{- if and .Values.prometheus.serviceMonitor.enabled (or (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") .Values.prometheus.serviceMonitor.trustCRDsExist) -}}
true
{{- end -}}
{{- end -}}

{{/* Whether the GatewayClass is created: "true", or "auto" and the
cluster serves GatewayClass. */}}
{{- define "cilium.gatewayClass" -}}
{{- $create := .Values.gatewayAPI.gatewayClass.create | toString -}}
{{- if and .Values.gatewayAPI.enabled (or (eq $create "true") (and (eq $create "auto") (.Capabilities.APIVersions.Has "gateway.networking.k8s.io/v1/GatewayClass"))) -}}
true
{{- end -}}
{{- end -}}

{{/* The agent and operator reach the API server here when it is set
(before Services work, e.g. through KubePrism). */}}
{{- define "cilium.apiServerEnv" -}}
{{- if .Values.k8sServiceHost }}
- name: KUBERNETES_SERVICE_HOST
  value: {{ .Values.k8sServiceHost | quote }}
{{- end }}
{{- if .Values.k8sServicePort }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ .Values.k8sServicePort | quote }}
{{- end }}
{{- end -}}
