{{- define "hccm.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The pod labels, which the workloads also select by. */}}
{{- define "hccm.selector" -}}
app.kubernetes.io/name: {{ include "hccm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
hccm.pod is the pod template of both kinds. The CCM is what removes the
uninitialized taint from new nodes, and it runs before the CNI makes the
nodes Ready, so it tolerates both, and the control plane's taint.
*/}}
{{- define "hccm.pod" -}}
metadata:
  labels:
    {{- include "hccm.selector" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "hccm.name" . }}
  dnsPolicy: Default
  priorityClassName: {{ .Values.priorityClassName | quote }}
  {{- if .Values.networking.enabled }}
  {{- /* It routes the pod network, so it cannot depend on it. */}}
  hostNetwork: true
  {{- end }}
  tolerations:
    - key: node.cloudprovider.kubernetes.io/uninitialized
      value: "true"
      effect: NoSchedule
    - key: CriticalAddonsOnly
      operator: Exists
    - key: node-role.kubernetes.io/control-plane
      operator: Exists
      effect: NoSchedule
    - key: node-role.kubernetes.io/master
      operator: Exists
      effect: NoSchedule
    - key: node.kubernetes.io/not-ready
      effect: NoExecute
    {{- with .Values.additionalTolerations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and (eq .Values.kind "Deployment") .Values.affinity }}
  affinity:
    {{- toYaml .Values.affinity | nindent 4 }}
  {{- end }}
  containers:
    - name: hcloud-cloud-controller-manager
      image: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
      command:
        - /bin/hcloud-cloud-controller-manager
        {{- range $flag, $v := .Values.args }}
        {{- if not (kindIs "invalid" $v) }}
        - {{ if eq (toString $v) "" }}--{{ $flag }}{{ else }}--{{ $flag }}={{ $v }}{{ end }}
        {{- end }}
        {{- end }}
        {{- if .Values.networking.enabled }}
        - --allocate-node-cidrs=true
        - --cluster-cidr={{ .Values.networking.clusterCIDR }}
        {{- end }}
      env:
        {{- range $name, $v := .Values.env }}
        {{- if not (kindIs "invalid" $v) }}
        - name: {{ $name }}
          {{- toYaml $v | nindent 10 }}
        {{- end }}
        {{- end }}
        {{- if .Values.networking.enabled }}
        - name: HCLOUD_NETWORK
          {{- toYaml .Values.networking.network | nindent 10 }}
        {{- end }}
        {{- if not .Values.monitoring.enabled }}
        - name: HCLOUD_METRICS_ENABLED
          value: "false"
        {{- end }}
        {{- if .Values.robot.enabled }}
        - name: ROBOT_ENABLED
          value: "true"
        {{- end }}
      {{- if .Values.monitoring.enabled }}
      ports:
        - name: metrics
          containerPort: 8233
      {{- end }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
{{- end -}}
