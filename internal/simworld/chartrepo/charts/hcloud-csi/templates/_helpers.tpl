{{- define "csi.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name }}{{ end -}}
{{- end -}}

{{- define "csi.labels" -}}
{{ include "simworld-lib.labels" (dict "ctx" .ctx "name" "hcloud-csi" "component" .component) }}
{{- end -}}

{{- define "csi.selector" -}}
{{ include "simworld-lib.selector" (dict "ctx" .ctx "name" "hcloud-csi" "component" .component) }}
{{- end -}}
