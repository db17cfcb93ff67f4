# SLA: what each tenant's contract entitles it to and protects it from (DESIGN §4, layer 2).
#
# The tenant's own figures (tier, burn rate, replica entitlement) come from the tenants
# configuration through context.tenant (src/governance/policy-input.ts); the terms of each tier are
# data (data.sla in policies/data.json). Rules, with the verdict each imposes on its own:
#   unknown_tier                 deny              the tier has no terms: nothing can be checked
#   sla_terms_missing            deny              the tier's terms are incomplete in the data
#   invalid_tenant_sla           deny              burn_rate or max_replicas is not a number
#   max_replicas_entitlement     require_approval  a scale-up beyond the replicas the tenant is entitled to
#   fast_burn_capacity_reduction deny              removing capacity from a tenant burning its budget fast
#   fast_burn_throttle           require_approval  throttling (or cutting the quota of) such a tenant
#   tier_supervised_action       require_approval  an action the tier's contract always has a human approve
#   tier_capacity_change         deny              a capacity change beyond what the tier allows per action
#   unknown_tenant               require_approval  the tenants file does not name the tenant: its tier was assumed
package governor.sla

import data.governor.lib.format

_tenant := object.get(input, ["proposal", "tenant"], "the tenant")

_action := object.get(input, ["proposal", "action"], "the action")

_target := object.get(input, ["proposal", "target", "name"], "its target")

_tier := object.get(input, ["context", "tenant", "tier"], null)

_terms := data.sla.tiers[_tier]

_tier_text := sprintf("'%s'", [_tier]) if {
	is_string(_tier)
} else := "(none)"

violations contains _violation("unknown_tier", "deny", msg) if {
	not _terms
	msg := sprintf("%s's tier %s has no SLA terms in the policy data: its contract cannot be checked", [_tenant, _tier_text])
}

# Each term is checked on its own: a tier whose terms lost a field must not read as "no limit".
violations contains _violation("sla_terms_missing", "deny", msg) if {
	_terms
	not _burn_threshold_known
	msg := sprintf("the policy data has no fast-burn threshold (fast_burn_rate) for the %s tier: a burning tenant cannot be protected", [_tier])
}

violations contains _violation("sla_terms_missing", "deny", msg) if {
	_terms
	not _tier_supervision_known
	msg := sprintf("the policy data has no list of supervised actions for the %s tier: the contract's supervision cannot be checked", [_tier])
}

violations contains _violation("sla_terms_missing", "deny", msg) if {
	not _throttling_known
	msg := "the policy data has no list of throttling actions (data.sla.throttling_actions): a throttle cannot be told from a scale-down"
}

# Helper rules, never `not is_number(...)` inline (see governor.autonomy): an absent value must count
# as unknown, not as fine.
_burn_threshold_known if is_number(_terms.fast_burn_rate)

_tier_supervision_known if is_array(_terms.supervised_actions)

_throttling_known if is_array(data.sla.throttling_actions)

violations contains _violation("invalid_tenant_sla", "deny", msg) if {
	some field in ["burn_rate", "max_replicas"]
	not _tenant_number(field)
	msg := sprintf("context.tenant.%s is missing or not a number: %s's SLA terms cannot be checked", [field, _tenant])
}

_tenant_number(field) if is_number(input.context.tenant[field])

# Entitlement. max_replicas is what the tenant's contract lets one of its deployments run (Elastik
# plans within it). Going beyond is a commercial decision, not a safety one: in an incident an
# on-call may rightly spend capacity the tenant has not bought to save its SLA, so a human decides
# rather than nobody. Only a scale-up counts: shrinking a deployment that is already above its
# entitlement moves it back toward the contract.
violations contains _violation("max_replicas_entitlement", "require_approval", msg) if {
	_scaling
	from := input.proposal.params.from_replicas
	to := input.proposal.params.to_replicas
	entitled := input.context.tenant.max_replicas
	is_number(from)
	is_number(to)
	is_number(entitled)
	to > from
	to > entitled
	msg := sprintf(
		"scale %s to %s replicas > %s replicas %s is entitled to (%s tier): exceeding the entitlement needs a human approval",
		[_target, format.num(to), format.num(entitled), _tenant, _tier],
	)
}

# Burn rate. context.tenant.burn_rate is how fast the tenant spends its error budget, as a multiple
# of the rate that would use it up exactly at the end of the SLO window (1 = on track). At or above
# its tier's fast_burn_rate the tenant is on course to breach its SLA, and taking capacity away
# from it can only make that worse. The thresholds are far below the 14.4x an SRE pages on: paging
# is about certainty, this is about not adding risk with an optional change, and a tighter
# (enterprise) SLA leaves less room, hence the lower threshold.
_fast_burn if {
	burn := input.context.tenant.burn_rate
	is_number(burn)
	burn >= _terms.fast_burn_rate
}

# A capacity reduction: a negative capacity change, a scale-down, or any throttle of the tenant.
_reduces_capacity if input.proposal.blast_radius.capacity_change_pct < 0

_reduces_capacity if {
	_scaling
	from := input.proposal.params.from_replicas
	to := input.proposal.params.to_replicas
	is_number(from)
	is_number(to)
	to < from
}

_reduces_capacity if _action == "throttle_tenant"

_throttling if _action in data.sla.throttling_actions

# A scale-down (or smaller limits, or a cordon) of a fast-burning tenant saves money at the price of
# the SLA it is already missing: nobody should approve that, so it is denied outright.
violations contains _violation("fast_burn_capacity_reduction", "deny", msg) if {
	_fast_burn
	_reduces_capacity
	not _throttling
	msg := sprintf(
		"%s is burning its error budget at %sx >= %sx (fast burn for the %s tier): %s of %s would remove capacity while its SLA is at risk",
		[_tenant, format.num(input.context.tenant.burn_rate), format.num(_terms.fast_burn_rate), _tier, _action, _target],
	)
}

# Throttling is different: the Arbitrator throttles a noisy tenant to protect its co-tenants, and
# that can be right even while the noisy one burns its own budget. It trades one tenant's SLA
# against others', which is a human's call.
violations contains _violation("fast_burn_throttle", "require_approval", msg) if {
	_fast_burn
	_reduces_capacity
	_throttling
	msg := sprintf(
		"%s is burning its error budget at %sx >= %sx (fast burn for the %s tier): %s of %s trades its SLA against its co-tenants' and needs a human approval",
		[_tenant, format.num(input.context.tenant.burn_rate), format.num(_terms.fast_burn_rate), _tier, _action, _target],
	)
}

# Tier terms. Some contracts (enterprise) promise that changes to the running software, a rollback
# or a configuration change, are approved by a person, whatever the agent's autonomy level. This
# holds even if the global list of supervised actions (data.autonomy) is shortened.
violations contains _violation("tier_supervised_action", "require_approval", msg) if {
	_action in _terms.supervised_actions
	msg := sprintf("%s is supervised by contract for %s tier tenants: a human approves it for %s before it runs", [_action, _tier, _tenant])
}

# A tier may bound the capacity one action changes, whoever approves it (the most restrictive tier,
# which unknown tenants get, keeps to the level-3 blast radius).
violations contains _violation("tier_capacity_change", "deny", msg) if {
	limit := _terms.max_capacity_change_pct
	is_number(limit)
	change := input.proposal.blast_radius.capacity_change_pct
	is_number(change)
	abs(change) > limit
	msg := sprintf("%s of %s changes %s's capacity by %s%% > %s%% per action for the %s tier", [_action, _target, _tenant, format.num(change), format.num(limit), _tier])
}

# A tenant the tenants file does not name (context.tenant.known is false): Governor assumed the most
# restrictive tier for it. Nobody agreed its terms, so a person looks at every action, and the
# decision says why.
violations contains _violation("unknown_tenant", "require_approval", msg) if {
	input.context.tenant.known == false
	reason := object.get(input, ["context", "tenant", "assumed_reason"], sprintf("%s is not in the tenants file; tier %s assumed", [_tenant, _tier_text]))
	msg := sprintf("%s: %s of %s needs a human approval", [reason, _action, _target])
}

_scaling if input.proposal.action == "scale_deployment"

_violation(rule, verdict, msg) := {"layer": "sla", "rule": rule, "message": msg, "verdict": verdict}
