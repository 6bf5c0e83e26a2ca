package ui

import (
	"strings"
	"testing"
	"time"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in      string
		want    command
		wantErr bool
	}{
		{"q", command{name: "quit"}, false},
		{"quit", command{name: "quit"}, false},
		{"user alice", command{name: "user", arg: "alice"}, false},
		{"user system:serviceaccount:kube-system:default", command{name: "user", arg: "system:serviceaccount:kube-system:default"}, false},
		{"ip 10.0.0.1", command{name: "ip", arg: "10.0.0.1"}, false},
		{"since 1h", command{name: "since", since: time.Hour}, false},
		{"since 2d", command{name: "since", since: 48 * time.Hour}, false},
		{"since 90s", command{name: "since", since: 90 * time.Second}, false},
		{"clear", command{name: "clear"}, false},
		{"history -n payments rolebinding/payments-deployers", command{name: "history", arg: "rolebinding/payments-deployers", ns: "payments"}, false},
		{"history cm/x --namespace=a", command{name: "history", arg: "cm/x", ns: "a"}, false},
		{"hist -nkube-system cm/x", command{name: "history", arg: "cm/x", ns: "kube-system"}, false},
		{"history clusterrolebinding/ci-bot-debug", command{name: "history", arg: "clusterrolebinding/ci-bot-debug"}, false},
		{"history", command{}, true},
		{"history -n", command{}, true},
		{"history a/b c/d", command{}, true},
		{"", command{}, true},
		{"user", command{}, true},
		{"user a b", command{}, true},
		{"since", command{}, true},
		{"since -1h", command{}, true},
		{"since 1x", command{}, true},
		{"since 1.5d", command{}, true},
		{"q now", command{}, true},
		{"frobnicate", command{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseCommand(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseCommand(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("parseCommand(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestUnknownCommandSuggests: a mistyped command names the one meant; any
// other unknown name points at the help.
func TestUnknownCommandSuggests(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hsitory cm/x", "did you mean :history RES/NAME?"},
		{"exprot /tmp/x", "did you mean :export DIR?"},
		{"undoo", "did you mean :undo?"},
		{"frobnicate", "? lists every command"},
	} {
		_, err := parseCommand(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseCommand(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}
