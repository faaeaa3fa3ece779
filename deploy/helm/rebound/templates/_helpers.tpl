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
(tests/deploy/test_chart.py renders the chart and compares): name, partitions, config, and
whether Rebound owns it. The event topics are the retailer's (owned: false): declared only
with strimzi.topics.eventTopics, for a sandbox.
*/}}
{{- define "rebound.topics" -}}
{{- $p := .Values.topicPrefix -}}
{{- $app := .Values.appId -}}
{{- $n := int .Values.partitions -}}
{{- $isr := dict "min.insync.replicas" (include "rebound.minInsyncReplicas" .) -}}
topics:
{{- range $name := list "orders" "deliveries" "opens" "clicks" "consents" }}
  - {name: {{ printf "%s%s" $p $name | quote }}, partitions: {{ $n }}, owned: false, config: {{ $isr | toJson }}}
{{- end }}
{{- range $channel := list "email" "sms" "push" }}
  - {name: {{ printf "%srebound.commands.%s" $p $channel | quote }}, partitions: {{ $n }}, owned: true, config: {{ $isr | toJson }}}
{{- end }}
  - {name: {{ printf "%srebound.dlq" $p | quote }}, partitions: {{ $n }}, owned: true, config: {{ merge (dict "retention.ms" "1209600000") $isr | toJson }}}
  - {name: {{ printf "%s-timers-due" $app | quote }}, partitions: {{ $n }}, owned: true, config: {{ $isr | toJson }}}
  - {name: {{ printf "%s-repartition" $app | quote }}, partitions: {{ $n }}, owned: true, config: {{ merge (dict "retention.ms" "604800000") $isr | toJson }}}
  - {name: {{ printf "%s-customers-changelog" $app | quote }}, partitions: {{ $n }}, owned: true, config: {{ merge (dict "cleanup.policy" "compact") $isr | toJson }}}
  - {name: {{ printf "%s-scenarios" $app | quote }}, partitions: 1, owned: true, config: {{ merge (dict "cleanup.policy" "compact") $isr | toJson }}}
  - {name: {{ printf "%s-__assignor-__leader" $app | quote }}, partitions: 1, owned: true, config: {{ $isr | toJson }}}
{{- end -}}

{{/* min.insync.replicas of the declared topics: kafka.minInsyncReplicas, by default one
less than the replication factor (2 of 3: a broker may be down, no write is acknowledged by
one copy alone), at least 1. */}}
{{- define "rebound.minInsyncReplicas" -}}
{{- $rf := int .Values.kafka.replicationFactor -}}
{{- .Values.kafka.minInsyncReplicas | default (max 1 (sub $rf 1)) -}}
{{- end -}}

{{/* The KafkaUser's name (strimzi.user.name, by default the release's full name): Strimzi
writes its credentials to a Secret of the same name. */}}
{{- define "rebound.kafkaUser" -}}
{{- .Values.strimzi.user.name | default (include "rebound.fullname" .) -}}
{{- end -}}

{{/*
The worker's Kafka credentials as YAML: certSecret (mutual TLS), saslUsername, saslSecret and
saslSecretKey (SASL). With strimzi.user.enabled they derive from the KafkaUser the chart makes
(its name, and the Secret Strimzi writes under that name); a value that names another user
or Secret, or a security protocol the user's authentication cannot use, stops the render.
*/}}
{{- define "rebound.kafkaCredentials" -}}
{{- $k := .Values.kafka -}}
{{- $cert := $k.clientCertSecret.name -}}
{{- $user := $k.sasl.username -}}
{{- $secret := $k.sasl.passwordSecret.name -}}
{{- $key := $k.sasl.passwordSecret.key -}}
{{- if .Values.strimzi.user.enabled -}}
{{- $name := include "rebound.kafkaUser" . -}}
{{- if eq .Values.strimzi.user.authentication "tls" -}}
{{- if ne $k.securityProtocol "SSL" -}}
{{- fail (printf "strimzi.user.authentication=tls needs kafka.securityProtocol=SSL, not %s" $k.securityProtocol) -}}
{{- end -}}
{{- if and $cert (ne $cert $name) -}}
{{- fail (printf "kafka.clientCertSecret.name=%s, but the KafkaUser this chart makes is %s and Strimzi writes its certificate to the Secret %s: leave kafka.clientCertSecret.name empty (or set strimzi.user.name)" $cert $name $name) -}}
{{- end -}}
{{- $cert = $name -}}
{{- else -}}
{{- if not (hasPrefix "SASL_" $k.securityProtocol) -}}
{{- fail (printf "strimzi.user.authentication=scram-sha-512 needs kafka.securityProtocol=SASL_SSL, not %s" $k.securityProtocol) -}}
{{- end -}}
{{- if ne $k.sasl.mechanism "SCRAM-SHA-512" -}}
{{- fail (printf "strimzi.user.authentication=scram-sha-512 needs kafka.sasl.mechanism=SCRAM-SHA-512, not %s" $k.sasl.mechanism) -}}
{{- end -}}
{{- if and $user (ne $user $name) -}}
{{- fail (printf "kafka.sasl.username=%s, but the KafkaUser this chart makes is %s: leave kafka.sasl.username empty (or set strimzi.user.name)" $user $name) -}}
{{- end -}}
{{- if and $secret (ne $secret $name) -}}
{{- fail (printf "kafka.sasl.passwordSecret.name=%s, but Strimzi writes the password of the KafkaUser %s to the Secret %s: leave kafka.sasl.passwordSecret.name empty" $secret $name $name) -}}
{{- end -}}
{{- if and $cert (ne $cert $name) -}}
{{- fail (printf "kafka.clientCertSecret.name=%s: a SCRAM user has no client certificate; leave it empty" $cert) -}}
{{- end -}}
{{- $user = $name -}}
{{- $secret = $name -}}
{{- $key = "password" -}}
{{- $cert = "" -}}
{{- end -}}
{{- end -}}
certSecret: {{ $cert | quote }}
saslUsername: {{ $user | quote }}
saslSecret: {{ $secret | quote }}
saslSecretKey: {{ $key | quote }}
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

{{/* The workers' ServiceAccount: serviceAccount.name, else the release's full name when the
chart creates it, else "default". */}}
{{- define "rebound.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "rebound.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}
