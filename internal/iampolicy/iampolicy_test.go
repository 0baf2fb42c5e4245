package iampolicy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartition(t *testing.T) {
	assert.Equal(t, "aws", Partition("eu-west-1"))
	assert.Equal(t, "aws-cn", Partition("cn-north-1"))
	assert.Equal(t, "aws-us-gov", Partition("us-gov-west-1"))
	assert.Equal(t, "arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy", ManagedPolicyARN("aws-cn", "AmazonEKSClusterPolicy"))
}

func TestServiceTrust(t *testing.T) {
	var doc Document
	require.NoError(t, json.Unmarshal([]byte(ServiceTrust("eks.amazonaws.com")), &doc))
	require.Len(t, doc.Statement, 1)
	assert.Equal(t, "2012-10-17", doc.Version)
	assert.Equal(t, "Allow", doc.Statement[0].Effect)
	assert.Equal(t, []any{"eks.amazonaws.com"}, doc.Statement[0].Principal["Service"])
	assert.Equal(t, []string{"sts:AssumeRole", "sts:TagSession"}, doc.Statement[0].Action)
}
