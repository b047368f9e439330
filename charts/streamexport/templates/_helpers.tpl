{{/*
Expand the name of the chart.
*/}}
{{- define "streamexport.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec);
the longest component suffix ("-operator-metrics", 17 chars) is cut from that budget below.
If release name contains chart name it will be used as a full name.
*/}}
{{- define "streamexport.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 46 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 46 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "streamexport.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of one component's objects: "<fullname>-<component>".
Usage: include "streamexport.componentName" (dict "ctx" . "component" "api")
*/}}
{{- define "streamexport.componentName" -}}
{{- printf "%s-%s" (include "streamexport.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels. Usage: include "streamexport.labels" (dict "ctx" . "component" "api");
the component may be "" for objects shared by all components.
*/}}
{{- define "streamexport.labels" -}}
helm.sh/chart: {{ include "streamexport.chart" .ctx }}
{{ include "streamexport.selectorLabels" . }}
{{- if .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: streamexport
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels. Usage: include "streamexport.selectorLabels" (dict "ctx" . "component" "api")
*/}}
{{- define "streamexport.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamexport.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/*
The ServiceAccount name of a component (api, operator, exporter).
Usage: include "streamexport.serviceAccountName" (dict "ctx" . "component" "api")
*/}}
{{- define "streamexport.serviceAccountName" -}}
{{- $sa := (index .ctx.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "streamexport.componentName" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/*
An image reference from {repository, tag, digest}; the tag defaults to the appVersion.
Usage: include "streamexport.image" (dict "ctx" . "image" .Values.image)
*/}}
{{- define "streamexport.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/*
Names of the Secrets the pods read: the created one when create is true, else existingSecret.
Usage: include "streamexport.secretName" (dict "ctx" . "key" "database")
*/}}
{{- define "streamexport.secretName" -}}
{{- $values := index .ctx.Values .key }}
{{- if $values.create }}
{{- include "streamexport.componentName" (dict "ctx" .ctx "component" .key) }}
{{- else }}
{{- $values.existingSecret }}
{{- end }}
{{- end }}

{{/*
Name of the catalog ConfigMap.
*/}}
{{- define "streamexport.catalogConfigMap" -}}
{{- default (include "streamexport.componentName" (dict "ctx" . "component" "catalog")) .Values.catalog.existingConfigMap }}
{{- end }}

{{/*
Whether email templates are configured ("true" or "").
*/}}
{{- define "streamexport.hasEmailTemplates" -}}
{{- if or .Values.emailTemplates.existingConfigMap .Values.emailTemplates.files }}true{{- end }}
{{- end }}

{{/*
Name of the email templates ConfigMap.
*/}}
{{- define "streamexport.emailTemplatesConfigMap" -}}
{{- default (include "streamexport.componentName" (dict "ctx" . "component" "email-templates")) .Values.emailTemplates.existingConfigMap }}
{{- end }}

{{/*
Where the catalog and the email templates are mounted.
*/}}
{{- define "streamexport.catalogPath" -}}/etc/streamexport/catalog/catalog.yaml{{- end }}
{{- define "streamexport.emailTemplatesDir" -}}/etc/streamexport/email-templates{{- end }}

{{/*
Environment shared by the API and the operator: log level, S3 bucket and credentials.
*/}}
{{- define "streamexport.sharedEnv" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: S3_BUCKET
  value: {{ .Values.s3.bucket | quote }}
- name: S3_ENDPOINT_URL
  value: {{ .Values.s3.endpointUrl | quote }}
- name: AWS_REGION
  value: {{ .Values.s3.region | quote }}
{{- $s3Secret := include "streamexport.secretName" (dict "ctx" . "key" "s3") }}
{{- if $s3Secret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ $s3Secret }}
      key: AWS_ACCESS_KEY_ID
      optional: true
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s3Secret }}
      key: AWS_SECRET_ACCESS_KEY
      optional: true
{{- end }}
{{- with .Values.s3.signingSecret }}
- name: S3_SIGNING_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: S3_SIGNING_ACCESS_KEY_ID
- name: S3_SIGNING_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: S3_SIGNING_SECRET_ACCESS_KEY
{{- end }}
{{- end }}

{{/*
Checksums of the configuration the pods read at start-up, as pod annotations, so that a
change rolls the pods. Secrets that the chart does not create are not covered.
*/}}
{{- define "streamexport.configChecksums" -}}
checksum/catalog: {{ include (print .Template.BasePath "/configmap-catalog.yaml") . | sha256sum }}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end }}

{{/*
The writable /tmp of the chart's pods: volume and mount.
Usage: include "streamexport.tmpVolume" .Values.api.tmpSizeLimit
*/}}
{{- define "streamexport.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ . }}
{{- end }}

{{/*
NetworkPolicy egress rules (DNS plus the configured rules) when egress is restricted.
*/}}
{{- define "streamexport.networkPolicyEgress" -}}
{{- if .Values.networkPolicy.egress.enabled -}}
egress:
  # DNS, to any resolver (cluster DNS or node-local cache).
  - ports:
      - protocol: UDP
        port: 53
      - protocol: TCP
        port: 53
  {{- with .Values.networkPolicy.egress.rules }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
policyTypes of a NetworkPolicy.
*/}}
{{- define "streamexport.networkPolicyTypes" -}}
policyTypes:
  - Ingress
{{- if .Values.networkPolicy.egress.enabled }}
  - Egress
{{- end }}
{{- end }}

{{/*
Name of the kopf peering object (OPERATOR_PEERING).
*/}}
{{- define "streamexport.peeringName" -}}
{{- default (include "streamexport.fullname" .) .Values.operator.peering.name }}
{{- end }}

{{/*
API_PUBLIC_URL: the configured URL, else https://<first ingress host> when the Ingress is on.
*/}}
{{- define "streamexport.apiPublicUrl" -}}
{{- if .Values.operator.apiPublicUrl }}
{{- .Values.operator.apiPublicUrl }}
{{- else if and .Values.api.ingress.enabled .Values.api.ingress.hosts }}
{{- printf "https://%s" (first .Values.api.ingress.hosts).host }}
{{- end }}
{{- end }}

{{/*
ConfigMap key of an email template path: ConfigMap keys cannot hold "/", so "a/b.j2" becomes "a__b.j2".
*/}}
{{- define "streamexport.emailTemplateKey" -}}
{{- replace "/" "__" . }}
{{- end }}
