package data

import "strings"

// The people behind identities. An audit event names an account
// (user.username), and the account is often shared: on EKS every engineer
// who assumes the admin role is "kubernetes-admin" or the role's mapped
// name; a service-account token works from any pod that holds it; an
// impersonating user acts under someone else's name. What the API server
// records about the person or credential behind the account is in
// user.extra (arrays of strings), in impersonatedUser, and on GKE in the
// Cloud Logging entry's principal email:
//
//	EKS (aws-iam-authenticator, access entries)
//	  user.extra.arn           arn:aws:sts::111122223333:assumed-role/Admin/alice  the role and session
//	  user.extra.sessionName   alice                                               the person who assumed the role
//	  user.extra.accessKeyId   ASIA...                                             the key to search CloudTrail with
//	bound service-account tokens (Kubernetes 1.30+)
//	  user.extra["authentication.kubernetes.io/pod-name"]       the pod the token was issued to
//	  user.extra["authentication.kubernetes.io/node-name"]      the node that pod runs on
//	  user.extra["authentication.kubernetes.io/credential-id"]  JTI=...: one token, wherever it is used
//	impersonation
//	  user.username -> impersonatedUser.username                the requester acts as the impersonated user
//	GKE
//	  protoPayload.authenticationInfo.principalEmail            the Google account (user.username)
//
// LogQL reaches the user.extra values with JSON expression stages (`| json`
// skips arrays); the schema names them userArn, userSessionName,
// userAccessKeyId, userPodName, userNodeName and userCredentialId, e.g.
//
//	{job="audit"} | json | json userCredentialId="user.extra[\"authentication.kubernetes.io/credential-id\"][0]" | userCredentialId="JTI=..."

// The user.extra keys of bound service-account tokens.
const (
	extraPodName      = "authentication.kubernetes.io/pod-name"
	extraNodeName     = "authentication.kubernetes.io/node-name"
	extraCredentialID = "authentication.kubernetes.io/credential-id"
)

// Identity is who made a request: the account and what the event records
// about the person, workload or credential behind it. Values are
// untrusted text: sanitise before display.
type Identity struct {
	User             string // user.username
	ImpersonatedUser string // impersonatedUser.username: User acted as this one

	ARN         string // EKS: user.extra.arn
	SessionName string // EKS: user.extra.sessionName
	AccessKeyID string // EKS: user.extra.accessKeyId

	PodName      string // service-account token: the pod it was issued to
	NodeName     string // service-account token: that pod's node
	CredentialID string // service-account token: JTI=..., one per token

	Principal string // GKE: authenticationInfo.principalEmail
}

// IdentityOf returns the identity of an event.
func IdentityOf(e *Event) Identity {
	return Identity{
		User: e.User, ImpersonatedUser: e.ImpUser,
		ARN: e.UserARN, SessionName: e.UserSession, AccessKeyID: e.UserAccessKey,
		PodName: e.UserPod, NodeName: e.UserNode, CredentialID: e.UserCredential,
		Principal: e.Principal,
	}
}

// Person returns who is behind the account, when the event says more than
// the account name: the session name of an EKS assumed role (else the
// role session or IAM user named in the ARN), the pod a service-account
// token was issued to ("pod NAME"), or "" when there is nothing beyond
// User (a GKE principal email is the user name itself).
func (id Identity) Person() string {
	switch {
	case id.SessionName != "":
		return id.SessionName
	case id.ARN != "":
		return ARNPerson(id.ARN)
	case id.PodName != "":
		return "pod " + id.PodName
	}
	return ""
}

// ARNPerson returns the person an AWS ARN names: the session of an
// assumed role (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), the user
// of an IAM user (arn:aws:iam::ACCOUNT:user/PATH/NAME), else the ARN.
func ARNPerson(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return arn
	}
	res := parts[5]
	switch {
	case strings.HasPrefix(res, "assumed-role/"):
		if segs := strings.Split(res, "/"); len(segs) >= 3 && segs[len(segs)-1] != "" {
			return segs[len(segs)-1]
		}
	case strings.HasPrefix(res, "user/"):
		if i := strings.LastIndexByte(res, '/'); i+1 < len(res) {
			return res[i+1:]
		}
	}
	return arn
}

// String is the identity on one line, as lists show it: the requester,
// "→ the impersonated user" when there is one, and the person behind in
// parentheses: "kubernetes-admin (alice)", "admin → carol",
// "system:serviceaccount:production:web (pod web-5d9c-x2x7p)".
func (id Identity) String() string {
	s := id.User
	if s == "" {
		s = "-"
	}
	if id.ImpersonatedUser != "" {
		s += " → " + id.ImpersonatedUser
	}
	if p := id.Person(); p != "" && p != id.User {
		s += " (" + p + ")"
	}
	return s
}

// IdentityDetail is one labelled fact about an identity.
type IdentityDetail struct{ Label, Value string }

// Details lists every fact the event records about the identity, in the
// order an investigator reads them, with labels of at most 9 characters;
// empty values are left out.
func (id Identity) Details() []IdentityDetail {
	var out []IdentityDetail
	add := func(label, v string) {
		if v != "" {
			out = append(out, IdentityDetail{label, v})
		}
	}
	add("user", id.User)
	if id.ImpersonatedUser != "" {
		add("as", id.ImpersonatedUser+" (impersonated by "+orDash(id.User)+")")
	}
	if id.SessionName != "" || id.ARN != "" {
		add("person", id.Person()) // a token's pod is listed below
	}
	add("principal", id.Principal)
	add("aws arn", id.ARN)
	add("session", id.SessionName)
	add("key id", id.AccessKeyID) // accessKeyId: the key to search CloudTrail with
	add("token pod", id.PodName)
	add("node", id.NodeName)
	add("token id", id.CredentialID) // credential-id: one token, wherever it is used
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
