{{/*
This chart's own helpers: who may call POST /invoke (bearer token, TLS, mutual TLS).
The Secrets are mounted read-only under these directories.
*/}}
{{- define "workflowclient.authDir" -}}/etc/emco-migrate/auth{{- end -}}
{{- define "workflowclient.tlsDir" -}}/etc/emco-migrate/tls{{- end -}}

{{/* "https" when the server speaks TLS, else "http": the port's name and the probes' scheme. */}}
{{- define "workflowclient.portName" -}}
{{- if .Values.tls.existingSecret -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{- define "workflowclient.validate" -}}
{{- if and .Values.tls.requireClientCert (not .Values.tls.existingSecret) -}}
{{- fail "tls.requireClientCert needs tls.existingSecret (a Secret with the server certificate, its key and the client CA)" -}}
{{- end -}}
{{- end -}}

{{/* `http-server` flags for the token, TLS and the emcoURL allowlist. */}}
{{- define "workflowclient.securityArgs" -}}
{{- if .Values.auth.existingSecret }}
- --auth-token-file
- {{ printf "%s/token" (include "workflowclient.authDir" .) }}
{{- end }}
{{- if .Values.tls.existingSecret }}
- --tls-cert-file
- {{ printf "%s/tls.crt" (include "workflowclient.tlsDir" .) }}
- --tls-key-file
- {{ printf "%s/tls.key" (include "workflowclient.tlsDir" .) }}
{{- if .Values.tls.requireClientCert }}
- --tls-client-ca-file
- {{ printf "%s/ca.crt" (include "workflowclient.tlsDir" .) }}
{{- end }}
{{- end }}
{{- range .Values.allowEmcoUrls }}
- --allow-emco-url
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod volumes for the token and TLS Secrets (items of the pod's volumes list). */}}
{{- define "workflowclient.volumes" -}}
{{- with .Values.auth.existingSecret }}
- name: auth-token
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $.Values.auth.secretKey }}
        path: token
{{- end }}
{{- with .Values.tls.existingSecret }}
- name: server-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $.Values.tls.certKey }}
        path: tls.crt
      - key: {{ $.Values.tls.keyKey }}
        path: tls.key
      {{- if $.Values.tls.requireClientCert }}
      - key: {{ $.Values.tls.clientCaKey }}
        path: ca.crt
      {{- end }}
{{- end }}
{{- end -}}

{{- define "workflowclient.volumeMounts" -}}
{{- if .Values.auth.existingSecret }}
- name: auth-token
  mountPath: {{ include "workflowclient.authDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.tls.existingSecret }}
- name: server-tls
  mountPath: {{ include "workflowclient.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Probe handler for a path: GET over HTTP or HTTPS (the kubelet does not verify the
certificate). With client certificates required the kubelet cannot complete a handshake
(it has no certificate to present), so the probe is a TCP connect instead.
*/}}
{{- define "workflowclient.probe" -}}
{{- $ctx := index . 0 -}}
{{- $path := index . 1 -}}
{{- $port := include "workflowclient.portName" $ctx -}}
{{- if $ctx.Values.tls.requireClientCert }}
tcpSocket:
  port: {{ $port }}
{{- else }}
httpGet:
  path: {{ $path }}
  port: {{ $port }}
  {{- if $ctx.Values.tls.existingSecret }}
  scheme: HTTPS
  {{- end }}
{{- end }}
{{- end -}}
