package ui

import (
	"github.com/audittui/audittui/internal/data"
)

// The people behind identities (data.Identity): the index keeps the EKS
// role's ARN and session name and the service-account token's pod and
// credential id as columns, so lists show who is behind an account and
// the Timeline pivots to them without reading events back.
var (
	ColARN        = mustCol("userArn")
	ColSession    = mustCol("userSessionName")
	ColPod        = mustCol("userPodName")
	ColCredential = mustCol("userCredentialId")
)

// identityOf is the identity of index row i as far as the columns know it
// (no access key id or node: those are in the event, see Detail).
func identityOf(s *Snapshot, i int) data.Identity {
	return data.Identity{
		User:             s.Str(ColUser, i),
		ImpersonatedUser: s.Str(ColImpUser, i),
		ARN:              s.Str(ColARN, i),
		SessionName:      s.Str(ColSession, i),
		PodName:          s.Str(ColPod, i),
		CredentialID:     s.Str(ColCredential, i),
	}
}

// userCell is the user column of event rows: the requester, "→ the
// impersonated user", and the person behind the account in parentheses
// (untrusted: the row renderer sanitises it).
func userCell(s *Snapshot, i int) string { return identityOf(s, i).String() }

// identityLines are Detail's lines about who made the request: every
// fact data.Identity has about the person, credential and impersonation
// (raw is the shown stage's bytes).
func identityLines(st *Styles, raw []byte, w int) []string {
	var dec data.Decoder
	evs, _ := dec.Decode(nil, raw, data.Origin{})
	if len(evs) == 0 {
		return nil
	}
	var out []string
	for _, d := range data.IdentityOf(&evs[0]).Details() {
		out = append(out, st.Bold.Render(pad(d.Label, 9))+" "+st.Safe(d.Value, w-10, st.Plain))
	}
	return out
}

// personPivot is the column and value of the person behind an event's
// account: the EKS session name, else the role ARN ("" when neither).
func personPivot(s *Snapshot, i int) (Col, string) {
	if v := s.Str(ColSession, i); v != "" {
		return ColSession, v
	}
	return ColARN, s.Str(ColARN, i)
}
