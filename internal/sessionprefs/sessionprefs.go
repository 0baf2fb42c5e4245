// Package sessionprefs is the account's SSM Session Manager setup, in one place for the two
// programs that need it: the account baseline creates the preferences (every session, shell or
// port forwarding, encrypted with the sessions key and logged to the sessions log group), and
// the node pools grant their instances what those preferences require of the target (decrypt
// with that key, write that log), or every session to a node fails its KMS handshake.
package sessionprefs

import (
	"encoding/json"
	"strconv"

	"github.com/scalemate/infra/internal/iampolicy"
)

const (
	// DocumentName is the account's (and region's) Session Manager preferences document. The
	// console creates it on first use of the preferences page: import it then.
	DocumentName = "SSM-SessionManagerRunShell"
	// KeyAlias names the key sessions are encrypted with (and the session log).
	KeyAlias = "alias/scalemate-sessions"
	// LogGroup receives every session's input and output.
	LogGroup = "/scalemate/ssm-sessions"
)

// Preferences are the inputs of the preferences document.
type Preferences struct {
	// KeyARN encrypts session data (and the log group). Required.
	KeyARN string
	// IdleMinutes ends an idle session, 1 to 60. MaxMinutes ends any session, 1 to 1440.
	IdleMinutes, MaxMinutes int
}

// Document is the preferences document's content: sessions encrypted with the key and streamed
// to the encrypted log group; no S3 copy; sessions run as ssm-user (no run-as).
func Document(p Preferences) string {
	b, err := json.Marshal(map[string]any{
		"schemaVersion": "1.0",
		"description":   "ScaleMate Session Manager preferences: KMS-encrypted sessions, logged to CloudWatch",
		"sessionType":   "Standard_Stream",
		"inputs": map[string]any{
			"kmsKeyId":                    p.KeyARN,
			"cloudWatchLogGroupName":      LogGroup,
			"cloudWatchEncryptionEnabled": true,
			"cloudWatchStreamingEnabled":  true,
			"s3BucketName":                "",
			"s3KeyPrefix":                 "",
			"s3EncryptionEnabled":         true,
			"runAsEnabled":                false,
			"runAsDefaultUser":            "",
			"idleSessionTimeout":          strconv.Itoa(p.IdleMinutes),
			"maxSessionDuration":          strconv.Itoa(p.MaxMinutes),
			"shellProfile":                map[string]string{"linux": "", "windows": ""},
		},
	})
	if err != nil {
		panic(err) // plain maps and strings always marshal
	}
	return string(b)
}

// InstanceStatements are what a session's target instance needs under these preferences:
// decrypt with the sessions key (found by its alias, so no stack needs the key's id) and write
// the session log (Session Manager's documented instance permissions for CloudWatch logging).
func InstanceStatements(partition, region string) []iampolicy.Statement {
	return []iampolicy.Statement{
		{Sid: "SessionKey", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: "*",
			Condition: iampolicy.Condition{"ForAnyValue:StringEquals": {"kms:ResourceAliases": KeyAlias}}},
		{Sid: "SessionLog", Effect: "Allow", Action: []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resource: "arn:" + partition + ":logs:" + region + ":*:log-group:" + LogGroup + ":*"},
		{Sid: "SessionLogLookup", Effect: "Allow", Action: []string{"logs:DescribeLogGroups"}, Resource: "*"},
	}
}
