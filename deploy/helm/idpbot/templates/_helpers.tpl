{{/* Name of the chart, overridable. */}}
{{- define "idpbot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: the release name, with the chart name
appended unless the release name already contains it.
*/}}
{{- define "idpbot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "idpbot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "idpbot.labels" -}}
helm.sh/chart: {{ include "idpbot.chart" . }}
{{ include "idpbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "idpbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "idpbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "idpbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "idpbot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, else repository:tag (appVersion by default). */}}
{{- define "idpbot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the checkout of gitSync.repo appears in the pod. */}}
{{- define "idpbot.gitRoot" -}}/srv/git{{- end }}
{{- define "idpbot.gitCheckout" -}}/srv/git/repo{{- end }}

{{/*
The configuration file: .Values.config without data_dir and listen (the
chart sets both on the command line), with catalog/scorecards/actions paths
defaulting to the mounted files and the gitSync paths.
*/}}
{{- define "idpbot.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) }}
{{- $_ := unset $cfg "data_dir" }}
{{- $_ = unset $cfg "listen" }}
{{- $git := include "idpbot.gitCheckout" . }}
{{- $sources := dict
      "catalog" (list .Values.catalogFiles .Values.gitSync.catalogPaths)
      "scorecards" (list .Values.scorecardFiles .Values.gitSync.scorecardPaths)
      "actions" (list .Values.actionFiles .Values.gitSync.actionPaths) }}
{{- range $section, $src := $sources }}
{{- $paths := list }}
{{- if index $src 0 }}
{{- $paths = append $paths (printf "/etc/idpbot/%s" $section) }}
{{- end }}
{{- if $.Values.gitSync.enabled }}
{{- range (index $src 1) }}
{{- $paths = append $paths (printf "%s/%s" $git (trimPrefix "/" .)) }}
{{- end }}
{{- end }}
{{- $sec := get $cfg $section | default dict }}
{{- if and $paths (not (hasKey $sec "paths")) }}
{{- $_ = set $sec "paths" $paths }}
{{- end }}
{{- if $sec }}
{{- $_ = set $cfg $section $sec }}
{{- end }}
{{- end }}
{{- if and .Values.gitSync.enabled .Values.gitSync.sidecar }}
{{- /* The sidecar keeps the checkout current: read the catalog as often. */}}
{{- $cat := get $cfg "catalog" | default dict }}
{{- if not (hasKey $cat "interval") }}
{{- $_ = set $cat "interval" .Values.gitSync.period }}
{{- end }}
{{- $_ = set $cfg "catalog" $cat }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Files of a ConfigMap: string values as they are, anything else as YAML. */}}
{{- define "idpbot.files" -}}
{{- range $name, $content := . }}
{{ $name }}: |
{{- if kindIs "string" $content }}
{{ $content | trimSuffix "\n" | indent 2 }}
{{- else }}
{{ toYaml $content | trimSuffix "\n" | indent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{/* The git-sync container (init container with oneTime, else sidecar). */}}
{{- define "idpbot.gitSyncContainer" -}}
{{- $ctx := index . 0 }}
{{- $oneTime := index . 1 }}
{{- $gs := $ctx.Values.gitSync }}
- name: {{ ternary "git-clone" "git-sync" $oneTime }}
  image: "{{ $gs.image.repository }}:{{ $gs.image.tag }}"
  imagePullPolicy: {{ $gs.image.pullPolicy }}
  args:
    - --repo={{ required "gitSync.repo is required when gitSync.enabled" $gs.repo }}
    - --ref={{ $gs.ref }}
    - --depth={{ $gs.depth }}
    - --root={{ include "idpbot.gitRoot" $ctx }}
    - --link=repo
    {{- if $oneTime }}
    - --one-time
    {{- else }}
    - --period={{ $gs.period }}
    {{- end }}
    {{- range $gs.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  {{- if $gs.existingSecret }}
  env:
    - name: GITSYNC_USERNAME
      valueFrom:
        secretKeyRef:
          name: {{ $gs.existingSecret }}
          key: username
          optional: true
    - name: GITSYNC_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ $gs.existingSecret }}
          key: password
          optional: true
  {{- end }}
  securityContext:
    {{- toYaml $ctx.Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml $gs.resources | nindent 4 }}
  volumeMounts:
    - name: git
      mountPath: {{ include "idpbot.gitRoot" $ctx }}
    - name: git-tmp
      mountPath: /tmp
{{- end }}
