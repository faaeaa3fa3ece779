{{/* The release's name, at most 63 characters. */}}
{{- define "rebound.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "rebound.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Every resource's labels; each adds its app.kubernetes.io/component. */}}
{{- define "rebound.labels" -}}
{{ include "rebound.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: rebound
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "rebound.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
Every topic Rebound reads, writes or owns, as streams/topology.py's topic_specs lists them
(tests/unit/test_chart.py renders the chart and compares): name, partitions, config.
*/}}
{{- define "rebound.topics" -}}
{{- $p := .Values.topicPrefix -}}
{{- $app := .Values.appId -}}
{{- $n := int .Values.partitions -}}
topics:
{{- range $name := list "orders" "deliveries" "opens" "clicks" "consents" }}
  - {name: {{ printf "%s%s" $p $name | quote }}, partitions: {{ $n }}, config: {}}
{{- end }}
{{- range $channel := list "email" "sms" "push" }}
  - {name: {{ printf "%srebound.commands.%s" $p $channel | quote }}, partitions: {{ $n }}, config: {}}
{{- end }}
  - {name: {{ printf "%srebound.dlq" $p | quote }}, partitions: {{ $n }}, config: {retention.ms: "1209600000"}}
  - {name: {{ printf "%s-timers-due" $app | quote }}, partitions: {{ $n }}, config: {}}
  - {name: {{ printf "%s-repartition" $app | quote }}, partitions: {{ $n }}, config: {retention.ms: "604800000"}}
  - {name: {{ printf "%s-customers-changelog" $app | quote }}, partitions: {{ $n }}, config: {cleanup.policy: compact}}
  - {name: {{ printf "%s-scenarios" $app | quote }}, partitions: 1, config: {cleanup.policy: compact}}
  - {name: {{ printf "%s-__assignor-__leader" $app | quote }}, partitions: 1, config: {}}
{{- end -}}

{{/* The Redis URL, the password from the environment variable REDIS_PASSWORD if any. */}}
{{- define "rebound.redisUrl" -}}
{{- $r := .Values.redis -}}
{{- $scheme := ternary "rediss" "redis" $r.tls -}}
{{- $auth := "" -}}
{{- if $r.passwordSecret.name -}}
{{- $auth = printf "%s:$(REDIS_PASSWORD)@" $r.username -}}
{{- end -}}
{{- printf "%s://%s%s:%v/%v" $scheme $auth $r.host $r.port $r.database -}}
{{- end -}}
