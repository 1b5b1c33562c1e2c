{{/*
Shared by the worker and workflowclient charts: this file is the same in both (the deploy
tests check it), so it reads only values that both charts define.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "emco-migrate.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Object names: fullnameOverride, else "<release>-<chart>" ("demo" -> "demo-workflowclient",
the host name in EMCO's workflow intent), else the release name when it already holds the
chart name.
*/}}
{{- define "emco-migrate.fullname" -}}
{{- $name := include "emco-migrate.name" . -}}
{{- $full := printf "%s-%s" .Release.Name $name -}}
{{- if .Values.fullnameOverride -}}
{{- $full = .Values.fullnameOverride -}}
{{- else if contains $name .Release.Name -}}
{{- $full = .Release.Name -}}
{{- end -}}
{{- $full | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "emco-migrate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "emco-migrate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "emco-migrate.labels" -}}
{{ include "emco-migrate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Chart.Name }}
app.kubernetes.io/part-of: emco-migrate
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/* repository@digest when a digest is given, else repository:tag (tag defaults to appVersion). */}}
{{- define "emco-migrate.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* Where the Temporal TLS Secret is mounted, and the file names its keys are mapped to. */}}
{{- define "emco-migrate.temporal.tlsDir" -}}/etc/emco-migrate/temporal-tls{{- end -}}

{{/* Refuse Temporal settings that would silently connect some other way than intended. */}}
{{- define "emco-migrate.temporal.validate" -}}
{{- $tls := .Values.temporal.tls -}}
{{- $usesFiles := or $tls.clientCertKey $tls.clientKeyKey $tls.serverCaCertKey -}}
{{- if and $tls.secretName (not $tls.enabled) -}}
{{- fail "temporal.tls.secretName is set but temporal.tls.enabled is false: set temporal.tls.enabled=true to use it" -}}
{{- end -}}
{{- if and $tls.enabled $usesFiles (not $tls.secretName) -}}
{{- fail "temporal.tls.enabled needs temporal.tls.secretName (a Secret with the client certificate, key and/or server CA); to use only the system CAs, set clientCertKey, clientKeyKey and serverCaCertKey to \"\"" -}}
{{- end -}}
{{- if ne (empty $tls.clientCertKey) (empty $tls.clientKeyKey) -}}
{{- fail "temporal.tls.clientCertKey and temporal.tls.clientKeyKey go together: set both, or both to \"\"" -}}
{{- end -}}
{{- end -}}

{{/*
Temporal connection environment, read by temporalio.envconfig in both processes.
TEMPORAL_SERVER is the seed's variable, kept for workflow clients written against it.
EMCO_MIGRATE_TASK_QUEUE (only when taskQueue is set) reaches --exec-dir clients too.
EMCO_MIGRATE_LOG_FORMAT and EMCO_MIGRATE_LOG_LEVEL: the logs' format and level.
*/}}
{{- define "emco-migrate.temporal.env" -}}
{{- $t := .Values.temporal -}}
{{- $dir := include "emco-migrate.temporal.tlsDir" . -}}
- name: TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
- name: TEMPORAL_SERVER
  value: {{ $t.address | quote }}
{{- if $t.tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- if $t.tls.clientCertKey }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: {{ printf "%s/tls.crt" $dir }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: {{ printf "%s/tls.key" $dir }}
{{- end }}
{{- if $t.tls.serverCaCertKey }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: {{ printf "%s/ca.crt" $dir }}
{{- end }}
{{- with $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- with $t.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $t.apiKey.secretKey }}
{{- end }}
{{- with .Values.taskQueue }}
- name: EMCO_MIGRATE_TASK_QUEUE
  value: {{ . | quote }}
{{- end }}
- name: EMCO_MIGRATE_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: EMCO_MIGRATE_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volumes: a writable /tmp (the root filesystem is read-only), the TLS Secret, extras. */}}
{{- define "emco-migrate.volumes" -}}
{{- $tls := .Values.temporal.tls -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if and $tls.enabled $tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ $tls.secretName }}
    defaultMode: 0440
    items:
      {{- if $tls.clientCertKey }}
      - key: {{ $tls.clientCertKey }}
        path: tls.crt
      - key: {{ $tls.clientKeyKey }}
        path: tls.key
      {{- end }}
      {{- if $tls.serverCaCertKey }}
      - key: {{ $tls.serverCaCertKey }}
        path: ca.crt
      {{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "emco-migrate.volumeMounts" -}}
{{- $tls := .Values.temporal.tls -}}
- name: tmp
  mountPath: /tmp
{{- if and $tls.enabled $tls.secretName }}
- name: temporal-tls
  mountPath: {{ include "emco-migrate.temporal.tlsDir" . }}
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod settings both charts share: scheduling, identity, security. */}}
{{- define "emco-migrate.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- /* Neither process talks to the Kubernetes API. */}}
automountServiceAccountToken: false
{{- /* Service links would inject <SERVICE>_PORT variables, e.g. TEMPORAL_PORT from a Service named "temporal". */}}
enableServiceLinks: false
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  {{- include "emco-migrate.volumes" . | nindent 2 }}
{{- end -}}
