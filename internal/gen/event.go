package gen

// identity is an authenticated user as the apiserver records it.
type identity struct {
	Username string
	UID      string
	Groups   []string
	// Extra is written in this order; keep it sorted by key, as
	// encoding/json sorts map keys.
	Extra []extraKV
}

type extraKV struct {
	Key    string
	Values []string
}

// objectRef mirrors audit.k8s.io/v1 ObjectReference (same field order).
type objectRef struct {
	Resource        string
	Namespace       string
	Name            string
	UID             string
	APIGroup        string
	APIVersion      string
	ResourceVersion string
	Subresource     string
}

// status mirrors the metav1.Status fields the apiserver fills in an audit
// event's responseStatus. Details is pre-encoded JSON ("" = omitted).
type status struct {
	Code    int
	Status  string
	Message string
	Reason  string
	Details string
}

// request is one API request; it yields one to three audit events (one per
// stage) that share the auditID.
type request struct {
	Level      string
	AuditIDHi  uint64
	AuditIDLo  uint64
	RequestURI string
	Verb       string
	User       *identity // nil writes "user":{} (failed authentication)
	Imp        *identity
	SourceIP   string
	UserAgent  string
	HasObj     bool
	Obj        objectRef
	Status     status
	// RequestObject / ResponseObject are pre-encoded JSON, logged only at
	// Request / RequestResponse level.
	RequestObject  []byte
	ResponseObject []byte
	Received       int64 // Unix ns
	// Latency is how long after Received the request completes (0 = drawn
	// from the default distribution for its verb and code).
	Latency int64
	// Node pins the request to a control-plane node (-1 = any).
	Node       int
	Decision   string
	AuthReason string
	// ExtraAnnotations are appended after the authorization ones, sorted.
	ExtraAnnotations []extraAnnotation
}

type extraAnnotation struct{ Key, Value string }

// Audit stages.
const (
	StageRequestReceived  = "RequestReceived"
	StageResponseStarted  = "ResponseStarted"
	StageResponseComplete = "ResponseComplete"
)

// Audit levels.
const (
	LevelMetadata        = "Metadata"
	LevelRequest         = "Request"
	LevelRequestResponse = "RequestResponse"
)

func appendIdentity(dst []byte, u *identity) []byte {
	dst = append(dst, '{')
	if u == nil {
		return append(dst, '}')
	}
	dst = appendKey(dst, "username")
	dst = appendString(dst, u.Username)
	if u.UID != "" {
		dst = append(dst, ',')
		dst = appendKey(dst, "uid")
		dst = appendString(dst, u.UID)
	}
	if len(u.Groups) > 0 {
		dst = append(dst, ',')
		dst = appendKey(dst, "groups")
		dst = appendStrings(dst, u.Groups)
	}
	if len(u.Extra) > 0 {
		dst = append(dst, ',')
		dst = appendKey(dst, "extra")
		dst = append(dst, '{')
		for i, kv := range u.Extra {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, kv.Key)
			dst = append(dst, ':')
			dst = appendStrings(dst, kv.Values)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

func appendField(dst []byte, key, val string) []byte {
	if val == "" {
		return dst
	}
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = appendKey(dst, key)
	return appendString(dst, val)
}

// appendEvent appends one audit event line (with a trailing newline) for
// request r at the given stage and stage time.
func appendEvent(dst []byte, r *request, stage string, stageTime int64) []byte {
	dst = append(dst, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":`...)
	dst = appendString(dst, r.Level)
	dst = append(dst, `,"auditID":"`...)
	dst = appendUUID(dst, r.AuditIDHi, r.AuditIDLo)
	dst = append(dst, `","stage":`...)
	dst = appendString(dst, stage)
	dst = append(dst, `,"requestURI":`...)
	dst = appendString(dst, r.RequestURI)
	dst = append(dst, `,"verb":`...)
	dst = appendString(dst, r.Verb)
	dst = append(dst, `,"user":`...)
	dst = appendIdentity(dst, r.User)
	if r.Imp != nil {
		dst = append(dst, `,"impersonatedUser":`...)
		dst = appendIdentity(dst, r.Imp)
	}
	dst = append(dst, `,"sourceIPs":[`...)
	dst = appendString(dst, r.SourceIP)
	dst = append(dst, ']')
	if r.UserAgent != "" {
		dst = append(dst, `,"userAgent":`...)
		dst = appendString(dst, r.UserAgent)
	}
	if r.HasObj {
		o := &r.Obj
		dst = append(dst, `,"objectRef":{`...)
		dst = appendField(dst, "resource", o.Resource)
		dst = appendField(dst, "namespace", o.Namespace)
		// At RequestReceived the body has not been decoded yet: a create's
		// name and an update's uid/resourceVersion (both taken from the
		// request object) are still unknown.
		early := stage == StageRequestReceived
		if !(early && r.Verb == "create" && o.Subresource == "") {
			dst = appendField(dst, "name", o.Name)
		}
		if !early {
			dst = appendField(dst, "uid", o.UID)
		}
		dst = appendField(dst, "apiGroup", o.APIGroup)
		dst = appendField(dst, "apiVersion", o.APIVersion)
		if !early {
			dst = appendField(dst, "resourceVersion", o.ResourceVersion)
		}
		dst = appendField(dst, "subresource", o.Subresource)
		dst = append(dst, '}')
	}
	if stage != StageRequestReceived {
		s := &r.Status
		dst = append(dst, `,"responseStatus":{"metadata":{}`...)
		dst = appendField(dst, "status", s.Status)
		dst = appendField(dst, "message", s.Message)
		dst = appendField(dst, "reason", s.Reason)
		if s.Details != "" {
			dst = append(dst, `,"details":`...)
			dst = append(dst, s.Details...)
		}
		dst = append(dst, `,"code":`...)
		dst = appendInt(dst, int64(s.Code))
		dst = append(dst, '}')
	}
	if len(r.RequestObject) > 0 && stage != StageRequestReceived && (r.Level == LevelRequest || r.Level == LevelRequestResponse) {
		dst = append(dst, `,"requestObject":`...)
		dst = append(dst, r.RequestObject...)
	}
	if len(r.ResponseObject) > 0 && r.Level == LevelRequestResponse && stage == StageResponseComplete {
		dst = append(dst, `,"responseObject":`...)
		dst = append(dst, r.ResponseObject...)
	}
	dst = append(dst, `,"requestReceivedTimestamp":`...)
	dst = appendMicroTime(dst, r.Received)
	dst = append(dst, `,"stageTimestamp":`...)
	dst = appendMicroTime(dst, stageTime)
	// Authorization annotations are added after the RequestReceived stage
	// (the audit filter runs before the authorizer); failed authentication
	// never reaches the authorizer.
	if stage != StageRequestReceived && r.Decision != "" {
		dst = append(dst, `,"annotations":{"authorization.k8s.io/decision":`...)
		dst = appendString(dst, r.Decision)
		dst = append(dst, `,"authorization.k8s.io/reason":`...)
		dst = appendString(dst, r.AuthReason)
		for _, a := range r.ExtraAnnotations {
			dst = append(dst, ',')
			dst = appendString(dst, a.Key)
			dst = append(dst, ':')
			dst = appendString(dst, a.Value)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '\n')
}
