package main

import (
	"fmt"
	"log/slog"
	"sync"
)

// Kinds of start-up notes, the "kind" of each entry of status.json's
// "notes": what the server found when it started and an operator should
// know without reading its log.
const (
	noteServing        = "serving"           // what is served and where (files, dhcp, address, *_boot, tftp, http…)
	noteStatus         = "status"            // where the status page and metrics are
	notePrograms       = "programs"          // boot programs from this machine, used where the tree has none
	noteKernel         = "kernel"            // -kernel: every machine boots one kernel (plan)
	noteImageFamily    = "image-family"      // the distribution the image was recognised as (family, evidence, serve)
	noteImage          = "image"             // warning: what of the image's menu the server could not serve as written
	noteDamagedImage   = "damaged-image"     // warning: entries of the ISO image that are not served
	noteNoEFIBootImage = "no-efi-boot-image" // warning: -http-boot-image with an image UEFI HTTP boot cannot boot
	noteShim           = "shim"              // UEFI clients get the signed shim (shim)
	noteSecureBoot     = "secure-boot"       // warning: a file that machines with Secure Boot on refuse (file, role, problem, signer)
	noteMissing        = "missing-program"   // warning: a boot program neither the tree nor this machine has (program, install)
	noteShadowed       = "status-shadowed"   // warning: the tree's own _pxekit/ is not served over HTTP
	noteTFTP6Off       = "tftp6-off"         // warning: no TFTP over IPv6 (err)
	noteNeighbours     = "neighbours"        // warning: the pools hold more addresses than the kernel keeps ARP entries (pool, gc_thresh3, raise)
)

// note is one fact found at start-up. Fields are the key/value pairs of
// its log line, each value as fmt.Sprint writes it.
type note struct {
	Kind   string            `json:"kind"`
	Level  string            `json:"level"` // "info" or "warn"
	Msg    string            `json:"msg"`
	Fields map[string]string `json:"fields,omitempty"`
}

// notes keeps the start-up notes; each is also logged, so that the log
// line and the status page say the same. Safe for concurrent use.
type notes struct {
	mu   sync.Mutex
	list []note
}

// info logs msg with args (slog key/value pairs) at info level and keeps
// it as a note of kind.
func (n *notes) info(log *slog.Logger, kind, msg string, args ...any) {
	log.Info(msg, args...)
	n.add("info", kind, msg, args)
}

// warn is info at warning level.
func (n *notes) warn(log *slog.Logger, kind, msg string, args ...any) {
	log.Warn(msg, args...)
	n.add("warn", kind, msg, args)
}

// keep keeps a note without logging it: for what a library logged
// already.
func (n *notes) keep(level, kind, msg string, args ...any) { n.add(level, kind, msg, args) }

func (n *notes) add(level, kind, msg string, args []any) {
	nt := note{Kind: kind, Level: level, Msg: msg}
	for i := 0; i+1 < len(args); i += 2 {
		if nt.Fields == nil {
			nt.Fields = map[string]string{}
		}
		nt.Fields[fmt.Sprint(args[i])] = fmt.Sprint(args[i+1])
	}
	n.mu.Lock()
	n.list = append(n.list, nt)
	n.mu.Unlock()
}

// all returns a copy of the notes in the order they were found.
func (n *notes) all() []note {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]note, len(n.list))
	copy(out, n.list)
	return out
}
