package rules

// Audit levels, as the audit policy names them.
const (
	LevelMetadata        = "Metadata"
	LevelRequest         = "Request"
	LevelRequestResponse = "RequestResponse"
)

// builtinLevels is the one place that says which audit level each rule of
// the built-in pack needs to see its events: Metadata when it reads only
// what every event carries (user, verb, objectRef, responseStatus,
// sourceIPs, userAgent, requestURI, annotations, impersonatedUser),
// Request when it reads request bodies (requestObject_* fields or line
// filters over the object). No built-in rule reads response bodies. The
// README's rule table and `audittui policy lint` (the rules a policy
// blinds) both read it through (*Rule).AuditLevel; TestBuiltinLevels
// checks it against each rule's expression.
var builtinLevels = map[string]string{
	"UnauthorizedAPIAccess":      LevelMetadata,
	"SecretAccessed":             LevelMetadata,
	"RBACModification":           LevelMetadata,
	"PodExecDetected":            LevelMetadata,
	"ServiceAccountTokenCreated": LevelMetadata,

	"AnonymousRequestAllowed":        LevelMetadata,
	"ForbiddenBurst":                 LevelMetadata,
	"ImpersonationUsed":              LevelMetadata,
	"PrivilegedIdentityImpersonated": LevelMetadata,
	"PermissionEnumeration":          LevelMetadata,
	"AccessReviewBurst":              LevelMetadata,
	"APIDiscoveryBurst":              LevelMetadata,
	"ResourceEnumerationBurst":       LevelMetadata,

	"ClusterIdentityUsedFromOutside":   LevelMetadata,
	"ServiceAccountHumanClient":        LevelMetadata,
	"ServiceAccountInteractiveRequest": LevelMetadata,

	"PodAttachDetected":            LevelMetadata,
	"PodPortForward":               LevelMetadata,
	"EphemeralContainerAdded":      LevelMetadata,
	"PrivilegedEphemeralContainer": LevelRequest,
	"NodeProxyAccess":              LevelMetadata,
	"ExecIntoKubeSystem":           LevelMetadata,
	"ExecReadsServiceAccountToken": LevelMetadata,

	"PrivilegedPodCreated":                LevelRequest,
	"HostNetworkPodCreated":               LevelRequest,
	"HostPIDPodCreated":                   LevelRequest,
	"HostIPCPodCreated":                   LevelRequest,
	"SensitiveHostPathMounted":            LevelRequest,
	"DangerousCapabilityAdded":            LevelRequest,
	"HostLevelPodDenied":                  LevelRequest,
	"RootUserPodCreated":                  LevelRequest,
	"PrivilegedWorkloadTemplate":          LevelRequest,
	"HostNamespaceWorkloadTemplate":       LevelRequest,
	"SensitiveHostPathWorkloadTemplate":   LevelRequest,
	"DangerousCapabilityWorkloadTemplate": LevelRequest,
	"HostPathPersistentVolumeCreated":     LevelRequest,
	"PodSecurityViolationPrivileged":      LevelMetadata,
	"PodCreatedInKubeSystem":              LevelMetadata,
	"WorkloadCreatedInKubeNamespace":      LevelMetadata,
	"CryptoMinerWorkload":                 LevelRequest,
	"CronJobCreatedByUser":                LevelMetadata,
	"NodePortServiceCreated":              LevelRequest,
	"DashboardExposedOutside":             LevelRequest,
	"NodeRegisteredByPerson":              LevelMetadata,

	"ClusterAdminBindingCreated":  LevelRequest,
	"ClusterAdminBindingDryRun":   LevelRequest,
	"BroadGroupBindingCreated":    LevelRequest,
	"WildcardRoleCreated":         LevelRequest,
	"RoleGrantsEscalationVerbs":   LevelRequest,
	"RoleGrantsClusterSecretRead": LevelRequest,
	"RoleGrantsExecAttach":        LevelRequest,
	"RoleGrantsTokenCreation":     LevelRequest,
	"SystemClusterRoleModified":   LevelMetadata,

	"KubeSystemTokenRequested":          LevelMetadata,
	"ServiceAccountTokenSecretCreated":  LevelRequest,
	"BootstrapTokenCreated":             LevelMetadata,
	"CertificateSigningRequestCreated":  LevelMetadata,
	"CertificateSigningRequestApproved": LevelMetadata,
	"SecretReadBurst":                   LevelMetadata,
	"SecretsListedClusterWide":          LevelMetadata,
	"SecretsWatched":                    LevelMetadata,
	"SecretAccessUnusualUserAgent":      LevelMetadata,
	"CredentialsInConfigMap":            LevelRequest,
	"ServiceAccountCreatedInKubeSystem": LevelMetadata,

	"AdmissionWebhookModified": LevelMetadata,
	"AdmissionPolicyModified":  LevelMetadata,
	"KyvernoPolicyRemoved":     LevelMetadata,
	"GatekeeperPolicyRemoved":  LevelMetadata,
	"PolicyEngineRuleWeakened": LevelRequest,
	"EventsDeleted":            LevelMetadata,
	"CoreDNSConfigModified":    LevelMetadata,
	"AwsAuthConfigMapModified": LevelMetadata,
	"MassDeletion":             LevelMetadata,
	"CollectionDeleted":        LevelMetadata,

	"ForbiddenSlow":    LevelMetadata,
	"AccessReviewSlow": LevelMetadata,
	"SecretReadSlow":   LevelMetadata,
	"MassDeletionSlow": LevelMetadata,
	"ForbiddenDaily":   LevelMetadata,
	"SecretReadDaily":  LevelMetadata,
}

// AuditLevel returns the audit level a rule of the built-in pack needs
// (Metadata, Request or RequestResponse), or "" for a rule from another
// file, whose level callers infer from its expression.
func (r *Rule) AuditLevel() string {
	if r.File != builtinName {
		return ""
	}
	return builtinLevels[r.Alert]
}
