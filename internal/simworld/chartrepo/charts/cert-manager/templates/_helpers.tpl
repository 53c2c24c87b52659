{{/* The name, app.kubernetes.io/name and image of each component. */}}
{{- define "cm.component" -}}
{{- $c := .component -}}
{{- $name := ternary .ctx.Release.Name (printf "%s-%s" .ctx.Release.Name $c) (eq $c "controller") -}}
{{- $app := ternary "cert-manager" $c (eq $c "controller") -}}
{{- dict "name" $name "app" $app | toJson -}}
{{- end -}}

{{- define "cm.labels" -}}
app: {{ .app }}
app.kubernetes.io/name: {{ .app }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cm.selector" -}}
app.kubernetes.io/name: {{ .app }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
