{{/* Names and the standard labels of every object. */}}
{{- define "isthmus.fullname" -}}
{{- printf "%s-%s" .Release.Name .Values.region | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "isthmus.labels" -}}
app.kubernetes.io/name: isthmus
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: isthmus
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
isthmus.io/mesh: {{ .Values.mesh.id }}
isthmus.io/region: {{ .Values.region }}
{{- end -}}

{{- define "isthmus.selector" -}}
app.kubernetes.io/name: isthmus
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "isthmus.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "isthmus.natsUrl" -}}
{{- if .Values.nats.url -}}{{ .Values.nats.url }}{{- else -}}{{ printf "%s://%s-nats:4222" (ternary "tls" "nats" .Values.tls.enabled) (include "isthmus.fullname" .) }}{{- end -}}
{{- end -}}

{{- define "isthmus.jsDomain" -}}
{{- .Values.nats.bundled.jetstreamDomain | default .Values.region -}}
{{- end -}}

{{/* Env every service shares: mesh, NATS (its own user), Postgres, TLS, health. */}}
{{- define "isthmus.commonEnv" -}}
- name: MESH_ID
  value: {{ .root.Values.mesh.id | quote }}
- name: NATS_URL
  value: {{ include "isthmus.natsUrl" .root | quote }}
- name: NATS_USER
  value: {{ .user | quote }}
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.nats.passwordsSecret | default (printf "%s-nats-passwords" (include "isthmus.fullname" .root)) }}
      key: {{ printf "%s_NATS_PASSWORD" (.user | upper | replace "-" "_") }}
- name: HEALTH_HOST
  value: "0.0.0.0"
- name: HEALTH_PORT
  value: "9090"
{{- if .root.Values.tls.enabled }}
- name: NATS_TLS_CA
  value: /etc/isthmus/tls/ca.crt
- name: HEALTH_TLS_CERT
  value: /etc/isthmus/tls/tls.crt
- name: HEALTH_TLS_KEY
  value: /etc/isthmus/tls/tls.key
{{- end }}
{{- if or .root.Values.postgres.url .root.Values.postgres.existingSecret }}
- name: DATABASE_URL
{{- if .root.Values.postgres.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.postgres.existingSecret }}
      key: DATABASE_URL
{{- else }}
  value: {{ .root.Values.postgres.url | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "isthmus.probes" -}}
readinessProbe:
  httpGet: { path: /readyz, port: 9090, scheme: {{ ternary "HTTPS" "HTTP" .Values.tls.enabled }} }
  periodSeconds: 5
livenessProbe:
  httpGet: { path: /healthz, port: 9090, scheme: {{ ternary "HTTPS" "HTTP" .Values.tls.enabled }} }
  periodSeconds: 10
{{- end -}}

{{- define "isthmus.tlsVolume" -}}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
{{- end }}
{{- end -}}

{{- define "isthmus.tlsMount" -}}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/isthmus/tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* One service's Deployment: (dict "root" . "component" c "replicas" n "program" path "env" yaml "ports" yaml "resources" map "volumes" yaml "mounts" yaml) */}}
{{- define "isthmus.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "isthmus.fullname" .root }}-{{ .component }}
  labels:
    {{- include "isthmus.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      {{- include "isthmus.selector" .root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        {{- include "isthmus.labels" .root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
    spec:
      serviceAccountName: {{ include "isthmus.fullname" .root }}-{{ .component }}
      securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 }
      containers:
        - name: {{ .component }}
          image: {{ include "isthmus.image" .root }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          args: [{{ .program | quote }}]
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
          env:
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
            {{- include "isthmus.commonEnv" (dict "root" .root "user" .component) | nindent 12 }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
          ports:
            - { name: health, containerPort: 9090 }
            {{- with .ports }}
            {{- . | nindent 12 }}
            {{- end }}
          {{- include "isthmus.probes" .root | nindent 10 }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            {{- include "isthmus.tlsMount" .root | nindent 12 }}
            {{- with .mounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- include "isthmus.tlsVolume" .root | nindent 8 }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- end -}}
