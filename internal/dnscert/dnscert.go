// Package dnscert requests an ACM certificate validated by DNS: the validation records are
// created in a Route 53 zone and the certificate is waited for, or, without a zone, returned as
// records for someone to create (the wait then lasts until they exist).
package dnscert

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Args describes one certificate.
type Args struct {
	// DomainNames are the certificate's names; the first is its subject. At least one.
	DomainNames []string
	// ZoneID is the Route 53 zone that gets the validation records; nil leaves them to the
	// caller (Records).
	ZoneID pulumi.StringInput
}

// Certificate is a requested certificate.
type Certificate struct {
	// ARN is the validated certificate's ARN: known only once ACM has issued it.
	ARN pulumi.StringOutput
	// Records are the DNS validation records (name, type, value), one per name that needs one.
	Records pulumi.ArrayOutput
}

// New requests the certificate and waits for its validation; opts carry parent and provider.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Certificate, error) {
	if len(args.DomainNames) == 0 {
		return nil, fmt.Errorf("certificate %s: no domain names", name)
	}
	cert, err := acm.NewCertificate(ctx, name, &acm.CertificateArgs{
		DomainName:              pulumi.String(args.DomainNames[0]),
		SubjectAlternativeNames: pulumi.ToStringArray(args.DomainNames[1:]),
		ValidationMethod:        pulumi.String("DNS"),
		KeyAlgorithm:            pulumi.String("EC_prime256v1"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("requesting certificate %s: %w", name, err)
	}
	names := validationNames(args.DomainNames)
	records := cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) []any {
		var out []any
		for _, d := range names {
			if o, ok := optionFor(opts, d); ok {
				out = append(out, map[string]any{"name": deref(o.ResourceRecordName), "type": deref(o.ResourceRecordType), "value": deref(o.ResourceRecordValue)})
			}
		}
		return out
	}).(pulumi.ArrayOutput)
	var fqdns pulumi.StringArray
	if args.ZoneID != nil {
		// One record per name, found by domain (the options are a set: their order is not ours).
		for _, d := range names {
			field := func(get func(acm.CertificateDomainValidationOption) *string) pulumi.StringOutput {
				return cert.DomainValidationOptions.ApplyT(func(opts []acm.CertificateDomainValidationOption) string {
					o, _ := optionFor(opts, d)
					return deref(get(o))
				}).(pulumi.StringOutput)
			}
			rec, err := route53.NewRecord(ctx, name+"-validation-"+strings.ReplaceAll(strings.TrimPrefix(d, "*."), ".", "-"), &route53.RecordArgs{
				ZoneId:  args.ZoneID,
				Name:    field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordName }),
				Type:    field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordType }),
				Records: pulumi.StringArray{field(func(o acm.CertificateDomainValidationOption) *string { return o.ResourceRecordValue })},
				Ttl:     pulumi.Int(300),
				// ACM gives every certificate of one name in one account the same record: one
				// left by an earlier certificate (a destroyed stack) is taken over, not a failure.
				AllowOverwrite: pulumi.Bool(true),
			}, opts...)
			if err != nil {
				return nil, fmt.Errorf("creating validation record of %s: %w", d, err)
			}
			fqdns = append(fqdns, rec.Fqdn)
		}
	}
	validated, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn: cert.Arn, ValidationRecordFqdns: fqdns,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("validating certificate %s: %w", name, err)
	}
	return &Certificate{ARN: validated.CertificateArn, Records: records}, nil
}

// validationNames are the names needing a DNS validation record: ACM gives *.d and d the same
// record, so a wildcard whose apex is listed is dropped (two resources must not own one record).
func validationNames(domains []string) []string {
	var out []string
	for _, d := range domains {
		if apex, ok := strings.CutPrefix(d, "*."); ok && slices.Contains(domains, apex) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func optionFor(opts []acm.CertificateDomainValidationOption, domain string) (acm.CertificateDomainValidationOption, bool) {
	for _, o := range opts {
		if deref(o.DomainName) == domain {
			return o, true
		}
	}
	return acm.CertificateDomainValidationOption{}, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
