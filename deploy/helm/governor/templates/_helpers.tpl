{{/*
Names, labels, the tenants' namespaces, the MCP sessions and the pod spec every component shares.
A component is an agent (watchtower…), "gateway", "executor" or "mcp-<server>".
*/}}

{{- define "governor.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "governor.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* dict "root" $ "component" NAME */}}
{{- define "governor.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The phase, refused unless it is one of the four (values-<phase>.yaml sets it). */}}
{{- define "governor.phase" -}}
{{- if not (has .Values.phase (list "observe" "advise" "assist" "govern")) -}}
{{- fail (printf "phase must be observe, advise, assist or govern (install with -f values-<phase>.yaml); got %q" (toString .Values.phase)) -}}
{{- end -}}
{{- .Values.phase -}}
{{- end -}}

{{/* Every tenant namespace, once each, sorted: JSON list. */}}
{{- define "governor.tenantNamespaces" -}}
{{- $all := list -}}
{{- range $name, $t := required "tenantsFile.tenants must name at least one tenant" .Values.tenantsFile.tenants -}}
{{- if not $t.namespaces -}}{{- fail (printf "tenantsFile.tenants.%s.namespaces is empty" $name) -}}{{- end -}}
{{- $all = concat $all $t.namespaces -}}
{{- end -}}
{{- $all | uniq | sortAlpha | toJson -}}
{{- end -}}

{{/*
The token seed, decided once per render and shared by every template through the values map:
mcp.tokenSeed, else the seed kept in the cluster (lookup), else a new random one.
*/}}
{{- define "governor.tokenSeed" -}}
{{- if not (hasKey .Values.mcp "_seed") -}}
{{- $seed := .Values.mcp.tokenSeed -}}
{{- if not $seed -}}
{{- $kept := lookup "v1" "Secret" .Release.Namespace (printf "%s-mcp-token-seed" (include "governor.fullname" .)) -}}
{{- if and $kept $kept.data (hasKey $kept.data "seed") -}}
{{- $seed = b64dec (index $kept.data "seed") -}}
{{- else -}}
{{- $seed = randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- $_ := set .Values.mcp "_seed" $seed -}}
{{- end -}}
{{- .Values.mcp._seed -}}
{{- end -}}

{{/*
Every MCP session of the release: JSON list of {server, agent, tenant?, namespaces, token}. A
perTenant agent has one per tenant, an allTenants agent one spanning every tenant's namespaces.
*/}}
{{- define "governor.sessions" -}}
{{- $root := . -}}
{{- $seed := include "governor.tokenSeed" . -}}
{{- $allNs := include "governor.tenantNamespaces" . | fromJsonArray -}}
{{- $sessions := list -}}
{{- range $server, $s := .Values.mcp.servers -}}
{{- if $s.enabled -}}
{{- range $agent := $s.perTenant -}}
{{- range $tenant, $t := $root.Values.tenantsFile.tenants -}}
{{- $token := sha256sum (printf "%s|%s|%s|%s" $seed $server $agent $tenant) -}}
{{- $sessions = append $sessions (dict "server" $server "agent" $agent "tenant" $tenant "namespaces" $t.namespaces "token" $token) -}}
{{- end -}}
{{- end -}}
{{- range $agent := $s.allTenants -}}
{{- $token := sha256sum (printf "%s|%s|%s|*" $seed $server $agent) -}}
{{- $sessions = append $sessions (dict "server" $server "agent" $agent "namespaces" $allNs "token" $token) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $sessions | toJson -}}
{{- end -}}

{{/* The agents a component acts for: JSON list. */}}
{{- define "governor.agentsOf" -}}
{{- if eq .component "executor" -}}
{{- .root.Values.executor.agents | toJson -}}
{{- else if hasKey .root.Values.agents .component -}}
{{- list .component | toJson -}}
{{- else -}}
{{- list | toJson -}}
{{- end -}}
{{- end -}}

{{- define "governor.mcpUrl" -}}
{{- printf "http://%s-mcp-%s.%s.svc:%d/mcp" (include "governor.fullname" .root) .server .root.Release.Namespace (int .root.Values.mcp.port) -}}
{{- end -}}

{{/* Which keys of the operator's Secret each kind of component reads. */}}
{{- define "governor.secretKeys" -}}
{{- if eq .component "gateway" -}}
{{- list "REDIS_URL" "DATABASE_URL" "ANTHROPIC_API_KEY" "SLACK_BOT_TOKEN" "SLACK_SIGNING_SECRET" "SLACK_APP_TOKEN" "PAGERDUTY_ROUTING_KEY" | toJson -}}
{{- else if eq .component "executor" -}}
{{- list "REDIS_URL" "DATABASE_URL" | toJson -}}
{{- else if eq .component "mcp-pagerduty" -}}
{{- list "PAGERDUTY_ROUTING_KEY" "PAGERDUTY_API_TOKEN" | toJson -}}
{{- else if has .component (list "mcp-kubernetes" "mcp-configmap" "mcp-feature-flags" "mcp-billing" "mcp-cloud") -}}
{{- list "REDIS_URL" | toJson -}}
{{- else if hasPrefix "mcp-" .component -}}
{{- list | toJson -}}
{{- else -}}
{{- list "REDIS_URL" "DATABASE_URL" "ANTHROPIC_API_KEY" | toJson -}}
{{- end -}}
{{- end -}}

{{/*
One component's Deployment.
dict "root" $ "component" NAME "args" LIST "replicas" N "resources" MAP "automount" BOOL
     "kind" ("agent" | "gateway" | "executor" | "mcp") "server" NAME (mcp only) "grants" BOOL (mcp only)
*/}}
{{- define "governor.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $full := include "governor.fullname" $root -}}
{{- $kind := .kind -}}
{{- $writesAudit := has $kind (list "agent" "gateway" "executor") -}}
{{- $hasSessions := has $kind (list "agent" "executor") -}}
{{- $readsPolicy := or $writesAudit (eq (toString .server) "opa") -}}
{{- $verifiesGrants := and (eq $kind "mcp") .grants -}}
{{- $seed := include "governor.tokenSeed" $root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}-{{ .component }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "governor.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas | default 1 }}
  selector:
    matchLabels:
      {{- include "governor.selectorLabels" (dict "root" $root "component" .component) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "governor.selectorLabels" (dict "root" $root "component" .component) | nindent 8 }}
      {{- /* The tenants file is read at start only: a change rolls the pods. The phase file and the
        policy bundle are watched by the processes, so they carry no checksum (no restart). */}}
      annotations:
        checksum/tenants: {{ $v.tenantsFile | toJson | sha256sum }}
        {{- if or $hasSessions (eq $kind "mcp") }}
        checksum/mcp-tokens: {{ $seed | sha256sum }}
        {{- end }}
    spec:
      serviceAccountName: {{ $full }}-{{ .component }}
      automountServiceAccountToken: {{ .automount }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: "{{ $v.image.repository }}:{{ $v.image.tag }}"
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: {{ .args | toJson }}
          securityContext:
            {{- toYaml $v.containerSecurityContext | nindent 12 }}
          env:
            - { name: LOG_LEVEL, value: {{ $v.logLevel | quote }} }
            - { name: GOVERNOR_DATA_DIR, value: /var/lib/governor }
            - { name: GOVERNOR_TENANTS_FILE, value: /etc/governor/tenants/tenants.json }
            - { name: GOVERNOR_CONFIG_FILE, value: /etc/governor/phase/governor.json }
            {{- if $readsPolicy }}
            - { name: GOVERNOR_POLICY_BUNDLE, value: /etc/governor/policy/bundle.tar.gz }
            {{- if $v.policy.publicKey }}
            - { name: GOVERNOR_POLICY_PUBLIC_KEY_FILE, value: /etc/governor/policy-key/public.pem }
            {{- end }}
            {{- end }}
            {{- range $name, $value := $v.env }}
            {{- if $value }}
            - { name: {{ $name }}, value: {{ $value | quote }} }
            {{- end }}
            {{- end }}
            {{- if $writesAudit }}
            - { name: GOVERNOR_AUDIT_KEY_FILE, value: /etc/governor/audit-key/private.pem }
            {{- end }}
            {{- if eq $kind "gateway" }}
            - { name: GOVERNOR_GRANT_KEY_FILE, value: /etc/governor/grant-key/private.pem }
            - { name: GOVERNOR_GRANT_KEY_ID, value: {{ $v.keys.grant.keyId | quote }} }
            - { name: SLACK_CHANNEL, value: {{ $v.slack.channel | quote }} }
            - { name: SLACK_PORT, value: {{ $v.slack.port | quote }} }
            {{- end }}
            {{- if $verifiesGrants }}
            - { name: GOVERNOR_GRANT_PUBLIC_KEY_FILE, value: /etc/governor/grant-key/public.pem }
            - { name: GOVERNOR_GRANT_KEY_ID, value: {{ $v.keys.grant.keyId | quote }} }
            {{- end }}
            {{- if $hasSessions }}
            - { name: GOVERNOR_MCP_ENDPOINTS_FILE, value: /etc/governor/mcp/endpoints.json }
            {{- end }}
            {{- if eq $kind "mcp" }}
            - { name: GOVERNOR_MCP_TOKENS_FILE, value: /etc/governor/mcp/tokens.json }
            {{- end }}
            {{- range $key := include "governor.secretKeys" (dict "component" .component) | fromJsonArray }}
            - name: {{ $key }}
              valueFrom:
                secretKeyRef: { name: {{ $v.secrets.name }}, key: {{ $key }}, optional: {{ not (has $key (list "REDIS_URL" "DATABASE_URL")) }} }
            {{- end }}
          {{- if eq $kind "mcp" }}
          ports:
            - { name: mcp, containerPort: {{ $v.mcp.port }}, protocol: TCP }
          # The MCP host answers GET /healthz once it serves.
          readinessProbe:
            httpGet: { path: /healthz, port: mcp }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /healthz, port: mcp }
            initialDelaySeconds: 20
            periodSeconds: 20
            failureThreshold: 3
          {{- else if and (eq $kind "gateway") (eq $v.slack.mode "http") }}
          ports:
            - { name: slack, containerPort: {{ $v.slack.port }}, protocol: TCP }
          # Slack's interactivity endpoint has no health path: ready once the port accepts.
          readinessProbe:
            tcpSocket: { port: slack }
            periodSeconds: 10
          {{- end }}
          {{- /* Agents and the executor serve nothing over HTTP: no probes. */}}
          resources:
            {{- toYaml (.resources | default $v.defaultResources) | nindent 12 }}
          volumeMounts:
            - { name: data, mountPath: /var/lib/governor }
            - { name: tmp, mountPath: /tmp }
            - { name: tenants, mountPath: /etc/governor/tenants, readOnly: true }
            - { name: phase, mountPath: /etc/governor/phase, readOnly: true }
            {{- if $readsPolicy }}
            - { name: policy, mountPath: /etc/governor/policy, readOnly: true }
            {{- if $v.policy.publicKey }}
            - { name: policy-key, mountPath: /etc/governor/policy-key, readOnly: true }
            {{- end }}
            {{- end }}
            {{- if $writesAudit }}
            - { name: audit-key, mountPath: /etc/governor/audit-key, readOnly: true }
            {{- end }}
            {{- if or (eq $kind "gateway") $verifiesGrants }}
            - { name: grant-key, mountPath: /etc/governor/grant-key, readOnly: true }
            {{- end }}
            {{- if or $hasSessions (eq $kind "mcp") }}
            - { name: mcp, mountPath: /etc/governor/mcp, readOnly: true }
            {{- end }}
      volumes:
        - name: data
          emptyDir: { sizeLimit: 256Mi }
        - name: tmp
          emptyDir: { sizeLimit: 256Mi }
        - name: tenants
          configMap: { name: {{ $full }}-tenants }
        - name: phase
          configMap: { name: {{ $full }}-phase }
        {{- if $readsPolicy }}
        - name: policy
          configMap: { name: {{ $full }}-policy }
        {{- if $v.policy.publicKey }}
        - name: policy-key
          configMap: { name: {{ $full }}-policy-key }
        {{- end }}
        {{- end }}
        {{- if $writesAudit }}
        - name: audit-key
          secret:
            secretName: {{ $v.keys.audit.secretName }}
            defaultMode: 0440
            items: [{ key: private.pem, path: private.pem }]
        {{- end }}
        {{- if eq $kind "gateway" }}
        - name: grant-key
          secret:
            secretName: {{ $v.keys.grant.secretName }}
            defaultMode: 0440
            # The private half only where grants are signed.
            items: [{ key: private.pem, path: private.pem }]
        {{- else if $verifiesGrants }}
        - name: grant-key
          secret:
            secretName: {{ $v.keys.grant.secretName }}
            defaultMode: 0444
            # The public half only: a server that held the private key could mint the grants it checks.
            items: [{ key: public.pem, path: public.pem }]
        {{- end }}
        {{- if $hasSessions }}
        - name: mcp
          secret: { secretName: {{ $full }}-mcp-endpoints-{{ .component }}, defaultMode: 0440 }
        {{- else if eq $kind "mcp" }}
        - name: mcp
          secret: { secretName: {{ $full }}-mcp-tokens-{{ .server }}, defaultMode: 0440 }
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/*
Every component of the release, enabled ones only: JSON list of
{component, kind, server, args, replicas, resources, clusterRead, tenantRole, nodeCordon, grants, automount}.
*/}}
{{- define "governor.components" -}}
{{- $v := .Values -}}
{{- $out := list -}}
{{- range $agent := list "watchtower" "elastik" "configurer" "arbitrator" "strategist" -}}
{{- $a := index $v.agents $agent -}}
{{- if $a.enabled -}}
{{- $out = append $out (dict "component" $agent "kind" "agent" "args" (list "agent" $agent) "replicas" $a.replicas "resources" $a.resources "clusterRead" $a.clusterRead "tenantRole" "" "nodeCordon" false "grants" false "automount" true) -}}
{{- end -}}
{{- end -}}
{{- $out = append $out (dict "component" "gateway" "kind" "gateway" "args" (list "gateway") "replicas" $v.gateway.replicas "resources" $v.gateway.resources "clusterRead" $v.gateway.clusterRead "tenantRole" "" "nodeCordon" false "grants" false "automount" true) -}}
{{- $out = append $out (dict "component" "executor" "kind" "executor" "args" (list "executor") "replicas" $v.executor.replicas "resources" $v.executor.resources "clusterRead" $v.executor.clusterRead "tenantRole" "" "nodeCordon" false "grants" false "automount" true) -}}
{{- range $server, $s := $v.mcp.servers -}}
{{- if $s.enabled -}}
{{- $automount := false -}}
{{- if or $s.clusterRead $s.tenantRole $s.nodeCordon -}}{{- $automount = true -}}{{- end -}}
{{- $args := list "mcp" $server "--port" (toString $v.mcp.port) "--host" $v.mcp.listenHost -}}
{{- $out = append $out (dict "component" (printf "mcp-%s" $server) "kind" "mcp" "server" $server "args" $args "replicas" ($s.replicas | default 1) "resources" $s.resources "clusterRead" $s.clusterRead "tenantRole" ($s.tenantRole | default "") "nodeCordon" ($s.nodeCordon | default false) "grants" $s.grants "automount" $automount) -}}
{{- end -}}
{{- end -}}
{{- $out | toJson -}}
{{- end -}}
