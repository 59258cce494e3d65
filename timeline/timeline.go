// Package timeline joins the [events.Event] values of pxekit's DHCP, TFTP
// and HTTP servers into one boot timeline per machine, to answer "where
// did this machine stop?".
//
// # Joining
//
// A machine is known by its MAC from DHCP. The address it was given
// (yiaddr of a reply) or already had (ciaddr of a request) links it to
// the TFTP and HTTP transfers from that address. Transfers from an
// address no DHCP event named (a client that got its address from another
// DHCP server and never sent ciaddr to this one) make a machine of their
// own, keyed "ip:ADDR", which is not merged later.
//
// # Stages
//
// A boot goes through [StageDHCP] (a reply sent), [StageBootProgram],
// [StageMenu], [StageKernel], [StageInitrd] and [StageRootFS]. A
// transfer that ends well ("ok") moves the machine to the stage of its
// file, as [Timeline.Classify] (by default [Classify], by file name) says;
// a machine never moves back within a boot: a file of an earlier stage
// (iPXE's own DHCP after the boot program, a second menu) is counted but
// does not change the stage. Each stage reached appends one [Step], so
// [Machine.Steps] is in order. A boot client's request (PXE or HTTP boot
// options) from a machine at [StageKernel] or later starts a new boot:
// the steps are cleared and [Machine.Boots] counts up. DHCP from an
// operating system (no PXE options) does not.
//
// # TFTP options
//
// The options a TFTP transfer agreed ([events.KindOptions]: blksize,
// windowsize, tsize, timeout) are kept as [Machine.Options], the last
// agreed, with the file they were agreed for: a transfer that is slow or
// stops can be read against what was negotiated.
//
// # Transfers
//
// Every transfer that ends is also kept in [Machine.Recent], the last
// [MaxRecent] of them with their outcome, bytes and TFTP block and window
// sizes, so that "which files did it ask for, and which were missing?"
// has an answer beside the stages.
//
// # Errors
//
// A transfer that ends otherwise than "ok" or "aborted" (PXE ROMs abort
// on purpose after learning a file's size) and a request from a boot
// client left unanswered for a reason other than "not for us" become the
// machine's last error.
//
// # Stalls
//
// A machine whose boot got to a stage and then went silent (no event,
// nothing being fetched) for [Timeline.StallAfter] is reported as
// stopped there ([Machine.Stall]), as of the moment [Timeline.Machines]
// or [Timeline.Machine] is called, at each stage after which a boot
// fetches its next file within seconds ([StallMessageAt]):
//
//   - [StageDHCP], when the reply named a boot file: "stopped after
//     DHCP", no boot program fetched;
//   - [StageBootProgram]: "stopped after the boot program" (the
//     firmware refused it, it crashed, or it sits at its prompt). A UEFI
//     machine whose last program is one that Secure Boot refuses
//     ([Timeline.SecureBoot]) gets the hint "Secure Boot may have
//     refused it";
//   - [StageMenu]: "stopped after the menu", no kernel fetched, with the
//     hint that a menu without a timeout waits for a key;
//   - [StageKernel]: "stopped after the kernel", no initrd fetched,
//     unless the kernel is one its menu boots without an initrd
//     ([Timeline.NoInitrd]).
//
// After the initrd and the root file system the operating system runs,
// and silence means nothing. The report goes away as soon as the
// machine moves on.
//
// # Bounds
//
// At most [Timeline.Max] machines (default 4096) are kept, each with at
// most [MaxRecent] transfers and 8 files in progress; the one with
// the oldest last event is forgotten first. Every string a client sent
// (host name, file names, vendor class) is kept as is, cut to 256 bytes:
// escaping is the renderer's job.
package timeline

import (
	"container/list"
	"fmt"
	"net/netip"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/pxekit/pxekit/events"
)

// Stage is how far a machine's boot got.
type Stage uint8

// Stages of a network boot, in order.
const (
	StageNone        Stage = iota // nothing yet, or a file that is not a step
	StageDHCP                     // a DHCP reply was sent
	StageBootProgram              // a boot program was fetched (pxelinux.0, ipxe.efi, shim, GRUB, ldlinux.c32)
	StageMenu                     // a menu or script (pxelinux.cfg/…, boot.ipxe, grub.cfg)
	StageKernel                   // a kernel
	StageInitrd                   // an initrd
	StageRootFS                   // a root file system or image (an ISO, squashfs)
)

var stageNames = [...]string{"none", "dhcp", "boot-program", "menu", "kernel", "initrd", "rootfs"}

// String returns "dhcp", "boot-program", "menu", "kernel", "initrd",
// "rootfs" or "none".
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return "none"
}

// MarshalText returns s.String(), for JSON.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText sets s from a name that String returns.
func (s *Stage) UnmarshalText(b []byte) error {
	for i, n := range stageNames {
		if n == string(b) {
			*s = Stage(i)
			return nil
		}
	}
	return fmt.Errorf("timeline: unknown stage %q", b)
}

// Classify returns the stage a file name stands for, by its name alone:
//
//   - menu: anything under pxelinux.cfg/, and names ending in .cfg, .ipxe,
//     .menu or .conf;
//   - boot program: names ending in .0, .efi, .kpxe, .pxe, .c32, .lkrn;
//   - root fs: names ending in .iso, .squashfs, .sfs, and names starting
//     with "filesystem." or "rootfs";
//   - initrd: base names containing "initrd" or "initramfs", or ending in
//     .cpio or .cpio.gz;
//   - kernel: base names starting with vmlinuz, vmlinux, bzimage, linux,
//     kernel or memtest;
//   - everything else: [StageNone].
//
// Case does not matter. Use [Timeline.Names] for names a menu gives.
func Classify(name string) Stage {
	n := strings.ToLower(name)
	if i := strings.Index(n, "://"); i >= 0 { // a URL: its path
		n = n[i+3:]
		if j := strings.IndexByte(n, '/'); j >= 0 {
			n = n[j+1:]
		}
	}
	base := path.Base(n)
	has := func(suffixes ...string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(base, s) {
				return true
			}
		}
		return false
	}
	prefix := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(base, p) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(n, "pxelinux.cfg/") || strings.Contains(n, "/pxelinux.cfg/") || has(".cfg", ".ipxe", ".menu", ".conf"):
		return StageMenu
	case has(".0", ".efi", ".kpxe", ".pxe", ".c32", ".lkrn"):
		return StageBootProgram
	case has(".iso", ".squashfs", ".sfs") || prefix("filesystem.", "rootfs"):
		return StageRootFS
	case strings.Contains(base, "initrd") || strings.Contains(base, "initramfs") || has(".cpio", ".cpio.gz"):
		return StageInitrd
	case prefix("vmlinuz", "vmlinux", "bzimage", "linux", "kernel", "memtest"):
		return StageKernel
	}
	return StageNone
}

// Step is one stage reached.
type Step struct {
	Stage Stage        `json:"stage"`
	Time  time.Time    `json:"time"`
	Proto events.Proto `json:"proto"`
	File  string       `json:"file,omitempty"` // the file that reached it; the boot file for DHCP
}

// Options are the options a TFTP transfer agreed (RFC 2347 OACK).
type Options struct {
	Time       time.Time     `json:"time"`
	File       string        `json:"file"`
	BlockSize  int           `json:"blksize"`
	WindowSize int           `json:"windowsize"`
	TSize      int64         `json:"tsize"`   // -1: not answered
	Timeout    time.Duration `json:"timeout"` // 0: not agreed
}

// String writes o as "blksize=1468 windowsize=4 tsize=1024 timeout=1s",
// leaving out tsize and timeout when they were not agreed.
func (o Options) String() string {
	s := fmt.Sprintf("blksize=%d windowsize=%d", o.BlockSize, o.WindowSize)
	if o.TSize >= 0 {
		s += fmt.Sprintf(" tsize=%d", o.TSize)
	}
	if o.Timeout > 0 {
		s += " timeout=" + o.Timeout.String()
	}
	return s
}

// MaxRecent is how many ended transfers [Machine.Recent] keeps.
const MaxRecent = 32

// Transfer is one TFTP or HTTP transfer that ended.
type Transfer struct {
	Time    time.Time    `json:"time"` // when it ended
	Proto   events.Proto `json:"proto"`
	File    string       `json:"file"`
	Outcome string       `json:"outcome"`          // "ok", "not-found", "aborted"…
	Status  int          `json:"status,omitempty"` // HTTP status code
	Bytes   int64        `json:"bytes"`
	// BlockSize and WindowSize are the TFTP options the transfer used.
	BlockSize  int           `json:"blksize,omitempty"`
	WindowSize int           `json:"windowsize,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// Machine is what is known about one machine.
type Machine struct {
	Key      string     `json:"key"` // the MAC, or "ip:ADDR" for a machine known only by address
	MAC      string     `json:"mac,omitempty"`
	Addr     netip.Addr `json:"addr"`
	Arch     string     `json:"arch,omitempty"`
	Firmware string     `json:"firmware,omitempty"`
	Host     string     `json:"host,omitempty"`

	Stage Stage     `json:"stage"`
	Steps []Step    `json:"steps"`
	First time.Time `json:"first"` // first event
	Last  time.Time `json:"last"`  // last event
	Boots int       `json:"boots"` // boots started (a boot client's DHCP after the kernel)

	Bytes     int64    `json:"bytes"`     // transferred over TFTP and HTTP, all boots
	Transfers int64    `json:"transfers"` // finished, all boots
	Fetching  []string `json:"fetching"`  // files being transferred now

	// Options are the last TFTP options agreed; zero before any.
	Options Options `json:"tftp_options,omitzero"`

	// Recent are the last [MaxRecent] transfers that ended, of every
	// boot, oldest first: what a machine asked for, including the files
	// it did not find (a boot loader's configuration search).
	Recent []Transfer `json:"recent"`

	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`

	// Program is the last boot program the current boot fetched ("ok"):
	// shim, then GRUB; iPXE; pxelinux.0, then ldlinux.c32.
	Program string `json:"program,omitempty"`

	// Stall is set when the machine went silent at a stage where a boot
	// does not wait (see [Stall]); nil while it is moving, and for a
	// machine of a finished boot.
	Stall *Stall `json:"stall,omitempty"`
}

// Stall says where a machine stopped: at a stage after which a boot
// goes on within seconds (see [StallMessageAt]), with nothing being
// fetched, for longer than [Timeline.StallAfter] since its last event.
// A boot program that starts fetches what comes next (shim its second
// stage, GRUB and pxelinux their configuration, iPXE its script) within
// a second or two, so a silent machine there was most likely refused by
// the firmware, or crashed, or sits at a prompt; likewise a loader loads
// the initrd right after the kernel.
type Stall struct {
	Stage Stage `json:"stage"`
	// File is what the machine got last at Stage: the boot file a DHCP
	// reply named, the last boot program fetched ([Machine.Program]),
	// the menu, the kernel.
	File    string    `json:"file"`
	Since   time.Time `json:"since"`   // the machine's last event
	Message string    `json:"message"` // [StallMessageAt] Stage: "stopped after the boot program"
	// Hint is why, when it can be told: for a UEFI machine whose last
	// program is one of [Timeline.SecureBoot], "Secure Boot may have
	// refused it: " and the reason; for a GRUB fetched over HTTP, that
	// it may lack the http module; at a menu, that it may wait for a
	// key.
	Hint string `json:"hint,omitempty"`
}

// StallMessage is [Stall.Message] of a machine that stopped at
// [StageBootProgram].
const StallMessage = "stopped after the boot program"

// StallMessageAt returns [Stall.Message] of a machine that stopped at s:
// "stopped after DHCP", [StallMessage], "stopped after the menu",
// "stopped after the kernel"; "" for the stages at which no stall is
// reported.
func StallMessageAt(s Stage) string {
	switch s {
	case StageDHCP:
		return "stopped after DHCP"
	case StageBootProgram:
		return StallMessage
	case StageMenu:
		return "stopped after the menu"
	case StageKernel:
		return "stopped after the kernel"
	}
	return ""
}

// menuHint is [Stall.Hint] of a machine that stopped at its menu.
const menuHint = "a menu without a timeout waits for a key at the machine's console"

// grubHTTPHint is [Stall.Hint] of a machine silent after a GRUB it
// fetched over HTTP. Such a GRUB reads its configuration from (http),
// and one built without the http module (Debian 12's signed images,
// x86-64 and arm64) asks for nothing and stops at its prompt.
const grubHTTPHint = "a GRUB loaded over HTTP reads its configuration over HTTP; one without the http module (Debian 12's signed GRUB) stops at its prompt: serve a GRUB with http (Debian 13's) or boot it over TFTP"

// DefaultStallAfter is [Timeline.StallAfter] when it is zero.
const DefaultStallAfter = 30 * time.Second

// Timeline joins events into machines. Set the fields before the first
// Observe; the zero value works. Safe for concurrent use.
type Timeline struct {
	// Max bounds the machines kept (default 4096); the one whose last
	// event is oldest goes first.
	Max int
	// Names gives the stage of exact file names (as clients ask for them,
	// without a leading slash), checked before Classify: the kernels and
	// initrds a menu names, the boot programs a policy offers.
	Names map[string]Stage
	// Classify gives the stage of the other names; nil means [Classify].
	Classify func(name string) Stage
	// StallAfter is how long a machine may stay silent after a stage
	// (see [Stall]) before [Machine.Stall] reports it (default
	// [DefaultStallAfter]; negative: never).
	StallAfter time.Duration
	// NoInitrd names the kernels (as in Names) that their menu boots
	// without an initrd: a machine silent after one is running it, not
	// stalled.
	NoInitrd map[string]bool
	// SecureBoot names the boot programs (as clients ask for them,
	// without a leading slash) that a machine with Secure Boot
	// enforcing refuses, each with why ("unsigned: …"), as
	// netboot.Boot.SecureBoot tells: a UEFI machine that stalls after
	// one gets the hint.
	SecureBoot map[string]string
	// Now returns the time against which stalls are measured; nil means
	// time.Now.
	Now func() time.Time

	mu     sync.Mutex
	byKey  map[string]*list.Element // of *Machine
	byAddr map[netip.Addr]string
	lru    list.List // front: most recent
}

const maxString = 256

func clip(s string) string {
	if len(s) > maxString {
		return s[:maxString]
	}
	return s
}

// maxFetching bounds the files listed as being fetched per machine.
const maxFetching = 8

func (t *Timeline) stageOf(name string) Stage {
	name = strings.TrimPrefix(name, "/")
	if s, ok := t.Names[name]; ok {
		return s
	}
	if t.Classify != nil {
		return t.Classify(name)
	}
	return Classify(name)
}

// machine returns the machine of key, made if create, moved to the front.
func (t *Timeline) machine(key string, now time.Time, create bool) *Machine {
	if t.byKey == nil {
		t.byKey = make(map[string]*list.Element)
		t.byAddr = make(map[netip.Addr]string)
	}
	if el, ok := t.byKey[key]; ok {
		t.lru.MoveToFront(el)
		return el.Value.(*Machine)
	}
	if !create {
		return nil
	}
	limit := t.Max
	if limit <= 0 {
		limit = 4096
	}
	for t.lru.Len() >= limit {
		old := t.lru.Remove(t.lru.Back()).(*Machine)
		delete(t.byKey, old.Key)
		if old.Addr.IsValid() && t.byAddr[old.Addr] == old.Key {
			delete(t.byAddr, old.Addr)
		}
	}
	m := &Machine{Key: key, First: now}
	t.byKey[key] = t.lru.PushFront(m)
	return m
}

// setAddr links addr to m.
func (t *Timeline) setAddr(m *Machine, addr netip.Addr) {
	if !addr.IsValid() || addr == m.Addr {
		return
	}
	if m.Addr.IsValid() && t.byAddr[m.Addr] == m.Key {
		delete(t.byAddr, m.Addr)
	}
	m.Addr = addr
	t.byAddr[addr] = m.Key
}

// reach moves m to stage s if that is forward.
func (m *Machine) reach(s Stage, now time.Time, proto events.Proto, file string) {
	if s == StageNone || s <= m.Stage {
		return
	}
	m.Stage = s
	m.Steps = append(m.Steps, Step{Stage: s, Time: now, Proto: proto, File: clip(file)})
}

// record appends x to m.Recent, forgetting the oldest beyond MaxRecent;
// the slice is allocated once per machine.
func (m *Machine) record(x Transfer) {
	if m.Recent == nil {
		m.Recent = make([]Transfer, 0, MaxRecent)
	}
	if len(m.Recent) == MaxRecent {
		copy(m.Recent, m.Recent[1:])
		m.Recent = m.Recent[:MaxRecent-1]
	}
	m.Recent = append(m.Recent, x)
}

func (m *Machine) fail(now time.Time, msg string) {
	m.LastError, m.LastErrorTime = clip(msg), now
}

// Observe takes one event; it implements [events.Hook].
func (t *Timeline) Observe(e events.Event) {
	now := e.Time
	if now.IsZero() {
		now = time.Now()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e.Proto {
	case events.ProtoDHCP:
		t.dhcp(e, now)
	case events.ProtoTFTP, events.ProtoHTTP:
		t.transfer(e, now)
	}
}

func (t *Timeline) dhcp(e events.Event, now time.Time) {
	if len(e.MAC) == 0 {
		return
	}
	key := e.MAC.String()
	create := false
	switch e.Kind {
	case events.KindIdentified, events.KindReply:
		create = true
	case events.KindIgnored:
		create = e.Firmware != "" && bootReason(e.Reason)
	}
	m := t.machine(key, now, create)
	if m == nil {
		return
	}
	m.MAC, m.Last = key, now
	if e.Arch != "" {
		m.Arch, m.Firmware = clip(e.Arch), clip(e.Firmware)
	}
	if e.Host != "" {
		m.Host = clip(e.Host)
	}
	t.setAddr(m, e.Addr)
	switch e.Kind {
	case events.KindIdentified:
		if m.Stage >= StageKernel {
			m.Boots++
			m.Stage, m.Steps, m.Program = StageNone, nil, ""
		}
		if m.Boots == 0 {
			m.Boots = 1
		}
	case events.KindReply:
		m.reach(StageDHCP, now, e.Proto, e.File)
	case events.KindIgnored:
		if bootReason(e.Reason) && e.Firmware != "" {
			msg := "dhcp " + e.Type + ": " + e.Reason
			if e.Err != nil {
				msg += ": " + e.Err.Error()
			}
			m.fail(now, msg)
		}
	}
}

// bootReason reports whether an ignored request is a boot failure rather
// than a request that was not ours.
func bootReason(r string) bool {
	switch r {
	case events.ReasonOtherServer, events.ReasonNoReply, events.ReasonNotBoot, events.ReasonMalformed:
		return false
	}
	return true
}

func (t *Timeline) transfer(e events.Event, now time.Time) {
	if !e.Addr.IsValid() {
		return
	}
	key, ok := t.byAddr[e.Addr]
	if !ok {
		key = "ip:" + e.Addr.String()
	}
	m := t.machine(key, now, true)
	if !ok {
		t.setAddr(m, e.Addr)
	}
	m.Last = now
	file := clip(e.File)
	switch e.Kind {
	case events.KindStart:
		if len(m.Fetching) < maxFetching {
			m.Fetching = append(m.Fetching, file)
		}
	case events.KindOptions:
		m.Options = Options{Time: now, File: file, BlockSize: e.BlockSize, WindowSize: e.WindowSize, TSize: e.Size, Timeout: e.Timeout}
	case events.KindDone:
		for i, f := range m.Fetching {
			if f == file {
				m.Fetching = append(m.Fetching[:i], m.Fetching[i+1:]...)
				break
			}
		}
		m.Bytes += e.Bytes
		m.Transfers++
		m.record(Transfer{Time: now, Proto: e.Proto, File: file, Outcome: clip(e.Outcome), Status: e.Status,
			Bytes: e.Bytes, BlockSize: e.BlockSize, WindowSize: e.WindowSize, Duration: e.Duration})
		switch e.Outcome {
		case "ok":
			s := t.stageOf(e.File)
			m.reach(s, now, e.Proto, e.File)
			if s == StageBootProgram && m.Stage == StageBootProgram {
				m.Program = strings.TrimPrefix(file, "/")
			}
		case "aborted":
		default:
			msg := e.Proto.String() + " " + file + ": " + e.Outcome
			if e.Err != nil {
				msg += ": " + e.Err.Error()
			}
			m.fail(now, msg)
		}
	}
}

// Machines returns a copy of every machine, the most recently active
// first.
func (t *Timeline) Machines() []Machine {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := make([]Machine, 0, t.lru.Len())
	for el := t.lru.Front(); el != nil; el = el.Next() {
		ms = append(ms, t.report(el.Value.(*Machine), now))
	}
	return ms
}

// Machine returns a copy of the machine of key (a MAC as
// net.HardwareAddr.String writes it, or "ip:ADDR").
func (t *Timeline) Machine(key string) (Machine, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	el, ok := t.byKey[key]
	if !ok {
		return Machine{}, false
	}
	return t.report(el.Value.(*Machine), t.now()), true
}

func (t *Timeline) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// report returns a copy of m with its Stall as of now.
func (t *Timeline) report(m *Machine, now time.Time) Machine {
	c := m.clone()
	after := t.StallAfter
	if after == 0 {
		after = DefaultStallAfter
	}
	msg := StallMessageAt(m.Stage)
	if after < 0 || msg == "" || len(m.Fetching) > 0 || now.Sub(m.Last) < after || len(m.Steps) == 0 {
		return c
	}
	file := m.Steps[len(m.Steps)-1].File
	st := &Stall{Stage: m.Stage, File: file, Since: m.Last, Message: msg}
	switch m.Stage {
	case StageDHCP:
		if file == "" {
			return c // not a boot reply: an operating system's lease
		}
	case StageBootProgram:
		st.File = m.Program
		if why, ok := t.SecureBoot[m.Program]; ok && strings.HasPrefix(m.Firmware, "uefi") {
			st.Hint = clip("Secure Boot may have refused it: " + why)
		} else if m.Steps[len(m.Steps)-1].Proto == events.ProtoHTTP && strings.HasPrefix(path.Base(m.Program), "grub") {
			st.Hint = grubHTTPHint
		}
	case StageMenu:
		st.Hint = menuHint
	case StageKernel:
		if t.NoInitrd[strings.TrimPrefix(file, "/")] {
			return c
		}
	}
	c.Stall = st
	return c
}

// Len returns the number of machines kept.
func (t *Timeline) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

func (m *Machine) clone() Machine {
	c := *m
	c.Steps = append([]Step(nil), m.Steps...)
	c.Fetching = append([]string(nil), m.Fetching...)
	c.Recent = append([]Transfer(nil), m.Recent...)
	if c.Recent == nil {
		c.Recent = []Transfer{}
	}
	if c.Steps == nil {
		c.Steps = []Step{}
	}
	if c.Fetching == nil {
		c.Fetching = []string{}
	}
	return c
}

// Reached reports whether the current boot got to stage s.
func (m *Machine) Reached(s Stage) bool { return m.Stage >= s }
