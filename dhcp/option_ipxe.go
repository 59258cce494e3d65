package dhcp

import (
	"iter"
	"math/bits"
	"strconv"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// IPXEOptions is option 175, the options iPXE encapsulates for itself
// (iPXE's include/ipxe/dhcp.h calls it DHCP_EB_ENCAP). In its requests
// iPXE lists the features it was built with there, one sub-option per
// feature (codes 0x10–0x4f, see [IPXEFeature]), plus its version
// (sub-option 235) and the bus ID of the network card (177). A server may
// send sub-options back, such as 176 (no-pxedhcp: skip waiting for
// proxyDHCP).
//
// The zero value is an empty list, which encodes as a lone End byte.
type IPXEOptions struct {
	// Options are the sub-options in the order their codes first
	// appeared, with repeated codes joined (RFC 3396).
	Options []SubOption
}

// iPXE sub-option codes that are not features.
const (
	IPXESubPriority    = 1   // signed priority of the settings block
	IPXESubKeepSAN     = 8   // keep the SAN drive after a failed boot
	IPXESubSkipSANBoot = 9   // do not boot from the SAN drive
	IPXESubScriptlet   = 81  // script to run instead of autoboot
	IPXESubNoPXEDHCP   = 176 // do not wait for proxyDHCP
	IPXESubBusID       = 177 // bus type, vendor and device of the NIC
	IPXESubBIOSDrive   = 189 // INT 13 drive number
	IPXESubVersion     = 235 // major, minor, patch
)

// ParseIPXEOptions decodes option 175. It fails on a truncated
// sub-option.
func ParseIPXEOptions(b []byte) (IPXEOptions, error) {
	subs, err := parseSubOptions(dhcpv4.OptionEtherboot, b)
	return IPXEOptions{Options: subs}, err
}

// Get returns the value of sub-option code and whether it is present.
func (o IPXEOptions) Get(code uint8) ([]byte, bool) {
	for _, s := range o.Options {
		if s.Code == code {
			return s.Data, true
		}
	}
	return nil, false
}

// Features returns the features the sub-options announce.
func (o IPXEOptions) Features() IPXEFeatureSet {
	var f IPXEFeatureSet
	for _, s := range o.Options {
		if s.Code >= ipxeFeatureFirst && s.Code <= ipxeFeatureLast {
			f.Add(IPXEFeature(s.Code))
		}
	}
	return f
}

// Version returns iPXE's version from sub-option 235, and false when it
// is missing or not 3 bytes.
func (o IPXEOptions) Version() (major, minor, patch uint8, ok bool) {
	v, ok := o.Get(IPXESubVersion)
	if !ok || len(v) != 3 {
		return 0, 0, 0, false
	}
	return v[0], v[1], v[2], true
}

// AppendBinary appends the option value to b: each sub-option (split when
// longer than 255 bytes), then End. It fails on sub-option code 0 or 255.
func (o IPXEOptions) AppendBinary(b []byte) ([]byte, error) {
	var err error
	for _, s := range o.Options {
		if b, err = appendSubOption(dhcpv4.OptionEtherboot, b, s.Code, s.Data); err != nil {
			return b, err
		}
	}
	return append(b, 255), nil
}

// MarshalBinary returns the option value.
func (o IPXEOptions) MarshalBinary() ([]byte, error) { return o.AppendBinary(nil) }

// ToBytes implements [dhcpv4.OptionValue]; it returns nil when o cannot be
// encoded.
func (o IPXEOptions) ToBytes() []byte { return optBytes(o.AppendBinary(nil)) }

// String lists the sub-options.
func (o IPXEOptions) String() string {
	s := make([]string, len(o.Options))
	for i, sub := range o.Options {
		s[i] = sub.String()
	}
	return "[" + strings.Join(s, "; ") + "]"
}

// Option returns o as option 175.
func (o IPXEOptions) Option() dhcpv4.Option {
	return dhcpv4.Option{Code: dhcpv4.OptionEtherboot, Value: o}
}

// WithIPXEOptions returns a modifier that sets option 175, or leaves the
// packet alone when o cannot be encoded.
func WithIPXEOptions(o IPXEOptions) dhcpv4.Modifier {
	b, err := o.AppendBinary(nil)
	return optModifier(dhcpv4.OptionEtherboot, b, err)
}

// IPXEFeature is a feature iPXE announces in option 175: the sub-option
// code, in the range 0x10–0x4f that iPXE reserves for feature markers.
type IPXEFeature uint8

// Features defined by iPXE (include/ipxe/features.h).
const (
	IPXEFeaturePXEExt    IPXEFeature = 0x10 // PXE API extensions
	IPXEFeatureISCSI     IPXEFeature = 0x11
	IPXEFeatureAoE       IPXEFeature = 0x12
	IPXEFeatureHTTP      IPXEFeature = 0x13
	IPXEFeatureHTTPS     IPXEFeature = 0x14
	IPXEFeatureTFTP      IPXEFeature = 0x15
	IPXEFeatureFTP       IPXEFeature = 0x16
	IPXEFeatureDNS       IPXEFeature = 0x17
	IPXEFeatureBzImage   IPXEFeature = 0x18
	IPXEFeatureMultiboot IPXEFeature = 0x19
	IPXEFeatureSLAM      IPXEFeature = 0x1a
	IPXEFeatureSRP       IPXEFeature = 0x1b
	IPXEFeatureNBI       IPXEFeature = 0x20
	IPXEFeaturePXE       IPXEFeature = 0x21
	IPXEFeatureELF       IPXEFeature = 0x22
	IPXEFeatureCOMBOOT   IPXEFeature = 0x23
	IPXEFeatureEFI       IPXEFeature = 0x24
	IPXEFeatureFCoE      IPXEFeature = 0x25
	IPXEFeatureVLAN      IPXEFeature = 0x26
	IPXEFeatureMenu      IPXEFeature = 0x27
	IPXEFeatureSDI       IPXEFeature = 0x28
	IPXEFeatureNFS       IPXEFeature = 0x29
)

const (
	ipxeFeatureFirst = 0x10
	ipxeFeatureLast  = 0x4f
)

var ipxeFeatureNames = map[IPXEFeature]string{
	IPXEFeaturePXEExt: "PXEEXT", IPXEFeatureISCSI: "iSCSI", IPXEFeatureAoE: "AoE",
	IPXEFeatureHTTP: "HTTP", IPXEFeatureHTTPS: "HTTPS", IPXEFeatureTFTP: "TFTP",
	IPXEFeatureFTP: "FTP", IPXEFeatureDNS: "DNS", IPXEFeatureBzImage: "bzImage",
	IPXEFeatureMultiboot: "Multiboot", IPXEFeatureSLAM: "SLAM", IPXEFeatureSRP: "SRP",
	IPXEFeatureNBI: "NBI", IPXEFeaturePXE: "PXE", IPXEFeatureELF: "ELF",
	IPXEFeatureCOMBOOT: "COMBOOT", IPXEFeatureEFI: "EFI", IPXEFeatureFCoE: "FCoE",
	IPXEFeatureVLAN: "VLAN", IPXEFeatureMenu: "Menu", IPXEFeatureSDI: "SDI",
	IPXEFeatureNFS: "NFS",
}

// String returns the feature's name as iPXE prints it ("HTTPS",
// "bzImage"), or "feature 0x4a" for one without a name.
func (f IPXEFeature) String() string {
	if s, ok := ipxeFeatureNames[f]; ok {
		return s
	}
	return "feature 0x" + strconv.FormatUint(uint64(f), 16)
}

// IPXEFeatureSet is a set of [IPXEFeature] values. The zero value is the
// empty set; it is a small value type, copied freely.
type IPXEFeatureSet struct {
	bits uint64 // feature f is bit f-0x10
}

// Add adds f to the set; features outside 0x10–0x4f are ignored.
func (s *IPXEFeatureSet) Add(f IPXEFeature) {
	if f < ipxeFeatureFirst || f > ipxeFeatureLast {
		return
	}
	s.bits |= 1 << uint(f-ipxeFeatureFirst)
}

// Has reports whether f is in the set.
func (s IPXEFeatureSet) Has(f IPXEFeature) bool {
	if f < ipxeFeatureFirst || f > ipxeFeatureLast {
		return false
	}
	return s.bits&(1<<uint(f-ipxeFeatureFirst)) != 0
}

// Len returns the number of features in the set.
func (s IPXEFeatureSet) Len() int {
	return bits.OnesCount64(s.bits)
}

// All yields the features in ascending order.
func (s IPXEFeatureSet) All() iter.Seq[IPXEFeature] {
	return func(yield func(IPXEFeature) bool) {
		for f := IPXEFeature(ipxeFeatureFirst); f <= ipxeFeatureLast; f++ {
			if s.Has(f) && !yield(f) {
				return
			}
		}
	}
}

// String returns the feature names separated by commas, such as
// "HTTP,HTTPS,DNS".
func (s IPXEFeatureSet) String() string {
	var sb strings.Builder
	for f := range s.All() {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(f.String())
	}
	return sb.String()
}

// IPXEFeaturesOf returns the features announced in the option 175 value b
// without allocating; it fails where [ParseIPXEOptions] fails.
func IPXEFeaturesOf(b []byte) (IPXEFeatureSet, error) {
	var f IPXEFeatureSet
	for i := 0; i < len(b); {
		c := b[i]
		if c == 0 {
			i++
			continue
		}
		if c == 255 {
			break
		}
		if i+1 >= len(b) {
			return IPXEFeatureSet{}, optMalformed(dhcpv4.OptionEtherboot, c, "truncated: no length byte")
		}
		n := int(b[i+1])
		if i+2+n > len(b) {
			return IPXEFeatureSet{}, optMalformed(dhcpv4.OptionEtherboot, c, "truncated: length %d, %d bytes left", n, len(b)-i-2)
		}
		f.Add(IPXEFeature(c))
		i += 2 + n
	}
	return f, nil
}
