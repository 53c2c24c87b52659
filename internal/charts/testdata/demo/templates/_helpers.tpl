{{- define "demo.fullname" -}}
{{ .Release.Name }}-demo
{{- end -}}
