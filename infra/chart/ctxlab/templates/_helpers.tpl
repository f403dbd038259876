{{/* Labels every object carries. */}}
{{- define "ctxlab.labels" -}}
app.kubernetes.io/name: ctxlab
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "portal"). */}}
{{- define "ctxlab.selectorLabels" -}}
app.kubernetes.io/name: ctxlab
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* repository:tag of one component's image; call with (dict "image" .Values.portal.image "component" "portal"). */}}
{{- define "ctxlab.image" -}}
{{- $repo := required (printf "%s.image.repository is required" .component) .image.repository -}}
{{- $tag := required (printf "%s.image.tag is required" .component) .image.tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end }}

{{/* Environment shared by the portal and the worker: what the apps' env.ts files read, plus deployment facts. */}}
{{- define "ctxlab.env" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.database.name }}
      key: {{ .Values.secrets.database.key }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.redis.name }}
      key: {{ .Values.secrets.redis.key }}
# Endpoints may point at this namespace's services (serving Deployments the worker starts);
# anything else internal needs an admin's allow-list entry.
- name: CTXLAB_OUTBOUND_ALLOW
  value: {{ printf "*.%s.svc,*.%s.svc.cluster.local" .Release.Namespace .Release.Namespace }}{{ with .Values.config.outboundAllow }},{{ . }}{{ end }}
{{- if .Values.secrets.secretKey.name }}
- name: CTXLAB_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.secretKey.name }}
      key: {{ .Values.secrets.secretKey.key }}
{{- end }}
{{- with .Values.config.queuePrefix }}
- name: QUEUE_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.artifactBucket }}
- name: CTXLAB_ARTIFACT_BUCKET
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.awsRegion }}
- name: AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.s3Endpoint }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ . | quote }}
{{- end }}
{{- if .Values.config.s3ForcePathStyle }}
- name: CTXLAB_S3_FORCE_PATH_STYLE
  value: "true"
{{- end }}
{{- if .Values.secrets.s3.name }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.s3.name }}
      key: {{ .Values.secrets.s3.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.s3.name }}
      key: {{ .Values.secrets.s3.secretAccessKeyKey }}
{{- end }}
{{- if .Values.caBundle.configMapName }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/ctxlab/ca/{{ .Values.caBundle.key }}
{{- end }}
- name: NEXT_TELEMETRY_DISABLED
  value: "1"
{{- range $name, $value := .Values.config.extraEnv }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{/* The RDS CA bundle, mounted where NODE_EXTRA_CA_CERTS points. Empty when caBundle.configMapName is. */}}
{{- define "ctxlab.caVolumeMounts" -}}
{{- if .Values.caBundle.configMapName -}}
volumeMounts:
  - name: ca-bundle
    mountPath: /etc/ctxlab/ca
    readOnly: true
{{- end }}
{{- end }}

{{- define "ctxlab.caVolumes" -}}
{{- if .Values.caBundle.configMapName -}}
volumes:
  - name: ca-bundle
    configMap:
      name: {{ .Values.caBundle.configMapName }}
{{- end }}
{{- end }}

{{- define "ctxlab.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}
