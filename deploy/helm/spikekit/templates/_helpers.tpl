{{/* Names and labels */}}
{{- define "spikekit.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The Kubernetes name of a component: (dict "root" $ "name" "wallet") */}}
{{- define "spikekit.name" -}}
{{- printf "%s-%s" (include "spikekit.fullname" .root) .name -}}
{{- end -}}

{{- define "spikekit.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "spikekit.labels" -}}
{{ include "spikekit.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "spikekit.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* A service's values merged over serviceDefaults: (dict "root" $ "name" "wallet") */}}
{{- define "spikekit.service" -}}
{{- $svc := index .root.Values.services .name -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.serviceDefaults) (deepCopy $svc)) -}}
{{- end -}}

{{/* Enabled services, sorted: a YAML list of names */}}
{{- define "spikekit.serviceNames" -}}
{{- $names := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if ne (toString $svc.enabled) "false" -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "names" $names) -}}
{{- end -}}

{{- define "spikekit.isBacking" -}}
{{- if has . (list "postgres" "redis") -}}true{{- end -}}
{{- end -}}

{{/* The variable a link's address is given in, as links.py _env_key() */}}
{{- define "spikekit.envKey" -}}
{{- if eq . "postgres" -}}SPIKEKIT_DATABASE_URL
{{- else if eq . "redis" -}}SPIKEKIT_REDIS_URL
{{- else -}}{{ printf "SPIKEKIT_%s_URLS" (. | replace "-" "_" | upper) }}
{{- end -}}
{{- end -}}

{{/* host:port of a URL, with the default port when it has none */}}
{{- define "spikekit.hostPort" -}}
{{- $host := (urlParse .url).host -}}
{{- if contains ":" $host -}}{{ $host }}{{- else -}}{{ printf "%s:%v" $host .port }}{{- end -}}
{{- end -}}

{{/* Where a backing service really is: host:port */}}
{{- define "spikekit.backingUpstream" -}}
{{- $root := .root -}}
{{- if eq .need "postgres" -}}
{{- if $root.Values.postgres.external.url -}}
{{- include "spikekit.hostPort" (dict "url" $root.Values.postgres.external.url "port" 5432) -}}
{{- else -}}
{{- printf "%s:5432" (include "spikekit.name" (dict "root" $root "name" "postgres")) -}}
{{- end -}}
{{- else -}}
{{- if $root.Values.redis.external.url -}}
{{- include "spikekit.hostPort" (dict "url" $root.Values.redis.external.url "port" 6379) -}}
{{- else -}}
{{- printf "%s:6379" (include "spikekit.name" (dict "root" $root "name" "redis")) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The links, as links.py plans them: one per (service, dependency), named
<service>-<dependency>; a Kubernetes Service balances a dependency's replicas, so one
link reaches all of them. Each has its Toxiproxy listen port, its upstream and the
address the service is given (through Toxiproxy when it is enabled).
*/}}
{{- define "spikekit.links" -}}
{{- $root := . -}}
{{- $toxi := include "spikekit.name" (dict "root" $root "name" "toxiproxy") -}}
{{- $port := int $root.Values.toxiproxy.firstPort -}}
{{- $links := list -}}
{{- range $name := (include "spikekit.serviceNames" $root | fromYaml).names -}}
{{- $svc := index $root.Values.services $name -}}
{{- range $need := $svc.needs -}}
{{- $upstream := "" -}}
{{- if include "spikekit.isBacking" $need -}}
{{- $upstream = include "spikekit.backingUpstream" (dict "root" $root "need" $need) -}}
{{- else -}}
{{- $upstream = printf "%s:%v" (include "spikekit.name" (dict "root" $root "name" $need)) $root.Values.servicePort -}}
{{- end -}}
{{- $address := $upstream -}}
{{- if $root.Values.toxiproxy.enabled -}}
{{- $address = printf "%s:%d" $toxi $port -}}
{{- end -}}
{{- $links = append $links (dict "name" (printf "%s-%s" $name $need) "service" $name "dependency" $need "port" $port "upstream" $upstream "address" $address "env" (include "spikekit.envKey" $need)) -}}
{{- $port = add1 $port -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "links" $links) -}}
{{- end -}}

{{/* A Secret's existing data (on upgrade), or an empty dict */}}
{{- define "spikekit.existingData" -}}
{{- $secret := lookup "v1" "Secret" .root.Release.Namespace .name -}}
{{- toYaml (dig "data" dict ($secret | default dict)) -}}
{{- end -}}

{{/* A value: given, else kept from the Secret, else drawn (randAlphaNum 64) */}}
{{- define "spikekit.keep" -}}
{{- if .given -}}{{ .given }}
{{- else if hasKey .existing .key -}}{{ index .existing .key | b64dec }}
{{- else -}}{{ randAlphaNum 64 }}
{{- end -}}
{{- end -}}
