package bootmenu

import (
	"strconv"
	"strings"
)

// Keyword is the canonical, upper-case spelling of a directive: "KERNEL",
// "MENU LABEL", "MENU MASTER PASSWD", "F1". Syslinux matches keywords
// without regard to case; the spelling in the file is kept for printing.
type Keyword string

// Global directives (syslinux.cfg(5), pxelinux(1)).
const (
	KwDefault      Keyword = "DEFAULT"
	KwUI           Keyword = "UI"
	KwPrompt       Keyword = "PROMPT"
	KwTimeout      Keyword = "TIMEOUT"
	KwTotalTimeout Keyword = "TOTALTIMEOUT"
	KwOnTimeout    Keyword = "ONTIMEOUT"
	KwOnError      Keyword = "ONERROR"
	KwNoEscape     Keyword = "NOESCAPE"
	KwNoComplete   Keyword = "NOCOMPLETE"
	KwNoHalt       Keyword = "NOHALT"
	KwAllowOptions Keyword = "ALLOWOPTIONS"
	KwImplicit     Keyword = "IMPLICIT"
	KwSerial       Keyword = "SERIAL"
	KwConsole      Keyword = "CONSOLE"
	KwFont         Keyword = "FONT"
	KwKbdMap       Keyword = "KBDMAP"
	KwDisplay      Keyword = "DISPLAY"
	KwSay          Keyword = "SAY"
	KwPath         Keyword = "PATH"
	KwInclude      Keyword = "INCLUDE"
	KwPXERetry     Keyword = "PXERETRY"
	KwSendCookies  Keyword = "SENDCOOKIES"
)

// Directives valid globally and in a LABEL block.
const (
	KwLabel     Keyword = "LABEL"
	KwAppend    Keyword = "APPEND"
	KwIPAppend  Keyword = "IPAPPEND"
	KwSysAppend Keyword = "SYSAPPEND"
	KwInitrd    Keyword = "INITRD"
	KwText      Keyword = "TEXT"
)

// Kernel directives: KERNEL guesses the image type from the file name
// extension, the others name it.
const (
	KwKernel    Keyword = "KERNEL"
	KwLinux     Keyword = "LINUX"
	KwBoot      Keyword = "BOOT"
	KwBSS       Keyword = "BSS"
	KwPXE       Keyword = "PXE"
	KwFDImage   Keyword = "FDIMAGE"
	KwComboot   Keyword = "COMBOOT"
	KwCom32     Keyword = "COM32"
	KwConfig    Keyword = "CONFIG"
	KwLocalBoot Keyword = "LOCALBOOT"
)

// MENU directives of menu.c32 and vesamenu.c32.
const (
	KwMenuTitle          Keyword = "MENU TITLE"
	KwMenuLabel          Keyword = "MENU LABEL"
	KwMenuDefault        Keyword = "MENU DEFAULT"
	KwMenuHide           Keyword = "MENU HIDE"
	KwMenuHidden         Keyword = "MENU HIDDEN"
	KwMenuHiddenKey      Keyword = "MENU HIDDENKEY"
	KwMenuClear          Keyword = "MENU CLEAR"
	KwMenuShiftKey       Keyword = "MENU SHIFTKEY"
	KwMenuSeparator      Keyword = "MENU SEPARATOR"
	KwMenuIndent         Keyword = "MENU INDENT"
	KwMenuDisable        Keyword = "MENU DISABLE"
	KwMenuPasswd         Keyword = "MENU PASSWD"
	KwMenuMasterPasswd   Keyword = "MENU MASTER PASSWD"
	KwMenuResolution     Keyword = "MENU RESOLUTION"
	KwMenuBackground     Keyword = "MENU BACKGROUND"
	KwMenuBegin          Keyword = "MENU BEGIN"
	KwMenuEnd            Keyword = "MENU END"
	KwMenuGoto           Keyword = "MENU GOTO"
	KwMenuExit           Keyword = "MENU EXIT"
	KwMenuQuit           Keyword = "MENU QUIT"
	KwMenuStart          Keyword = "MENU START"
	KwMenuSave           Keyword = "MENU SAVE"
	KwMenuNoSave         Keyword = "MENU NOSAVE"
	KwMenuImmediate      Keyword = "MENU IMMEDIATE"
	KwMenuNoImmediate    Keyword = "MENU NOIMMEDIATE"
	KwMenuOnError        Keyword = "MENU ONERROR"
	KwMenuInclude        Keyword = "MENU INCLUDE"
	KwMenuHelp           Keyword = "MENU HELP"
	KwMenuAutoboot       Keyword = "MENU AUTOBOOT"
	KwMenuTabMsg         Keyword = "MENU TABMSG"
	KwMenuNoTabMsg       Keyword = "MENU NOTABMSG"
	KwMenuPassPrompt     Keyword = "MENU PASSPROMPT"
	KwMenuColor          Keyword = "MENU COLOR"
	KwMenuMsgColor       Keyword = "MENU MSGCOLOR"
	KwMenuWidth          Keyword = "MENU WIDTH"
	KwMenuMargin         Keyword = "MENU MARGIN"
	KwMenuPasswordMargin Keyword = "MENU PASSWORDMARGIN"
	KwMenuRows           Keyword = "MENU ROWS"
	KwMenuTabMsgRow      Keyword = "MENU TABMSGROW"
	KwMenuCmdLineRow     Keyword = "MENU CMDLINEROW"
	KwMenuEndRow         Keyword = "MENU ENDROW"
	KwMenuPasswordRow    Keyword = "MENU PASSWORDROW"
	KwMenuTimeoutRow     Keyword = "MENU TIMEOUTROW"
	KwMenuHelpMsgRow     Keyword = "MENU HELPMSGROW"
	KwMenuHelpMsgEndRow  Keyword = "MENU HELPMSGENDROW"
	KwMenuHiddenRow      Keyword = "MENU HIDDENROW"
	KwMenuHShift         Keyword = "MENU HSHIFT"
	KwMenuVShift         Keyword = "MENU VSHIFT"
)

// topWords maps a lower-case first word to its keyword. F-keys are handled
// separately.
var topWords = buildTopWords()

// menuWords maps a lower-case word after MENU to its keyword.
var menuWords = buildMenuWords()

func buildTopWords() map[string]Keyword {
	m := make(map[string]Keyword)
	for _, k := range []Keyword{KwDefault, KwUI, KwPrompt, KwTimeout,
		KwTotalTimeout, KwOnTimeout, KwOnError, KwNoEscape, KwNoComplete,
		KwNoHalt, KwAllowOptions, KwImplicit, KwSerial, KwConsole, KwFont,
		KwKbdMap, KwDisplay, KwSay, KwPath, KwInclude, KwPXERetry,
		KwSendCookies, KwLabel, KwAppend, KwIPAppend, KwSysAppend, KwInitrd,
		KwText, KwKernel, KwLinux, KwBoot, KwBSS, KwPXE, KwFDImage,
		KwComboot, KwCom32, KwConfig, KwLocalBoot} {
		m[strings.ToLower(string(k))] = k
	}
	return m
}

func buildMenuWords() map[string]Keyword {
	m := map[string]Keyword{
		"colour":    KwMenuColor,
		"msgcolour": KwMenuMsgColor,
		"disabled":  KwMenuDisable,
	}
	for _, k := range []Keyword{KwMenuTitle, KwMenuLabel, KwMenuDefault,
		KwMenuHide, KwMenuHidden, KwMenuHiddenKey, KwMenuClear,
		KwMenuShiftKey, KwMenuSeparator, KwMenuIndent, KwMenuDisable,
		KwMenuPasswd, KwMenuResolution, KwMenuBackground, KwMenuBegin,
		KwMenuEnd, KwMenuGoto, KwMenuExit, KwMenuQuit, KwMenuStart,
		KwMenuSave, KwMenuNoSave, KwMenuImmediate, KwMenuNoImmediate,
		KwMenuOnError, KwMenuInclude, KwMenuHelp, KwMenuAutoboot,
		KwMenuTabMsg, KwMenuNoTabMsg, KwMenuPassPrompt, KwMenuColor,
		KwMenuMsgColor, KwMenuWidth, KwMenuMargin, KwMenuPasswordMargin,
		KwMenuRows, KwMenuTabMsgRow, KwMenuCmdLineRow, KwMenuEndRow,
		KwMenuPasswordRow, KwMenuTimeoutRow, KwMenuHelpMsgRow,
		KwMenuHelpMsgEndRow, KwMenuHiddenRow, KwMenuHShift, KwMenuVShift} {
		m[strings.ToLower(strings.TrimPrefix(string(k), "MENU "))] = k
	}
	return m
}

// IsKernel reports whether k is KERNEL or one of its type-specific forms
// (LINUX, BOOT, BSS, PXE, FDIMAGE, COMBOOT, COM32, CONFIG, LOCALBOOT).
func (k Keyword) IsKernel() bool {
	switch k {
	case KwKernel, KwLinux, KwBoot, KwBSS, KwPXE, KwFDImage, KwComboot,
		KwCom32, KwConfig, KwLocalBoot:
		return true
	}
	return false
}

// labelScoped reports whether k, after a LABEL line, describes that label.
func (k Keyword) labelScoped() bool {
	if k.IsKernel() {
		return true
	}
	switch k {
	case KwAppend, KwIPAppend, KwSysAppend, KwInitrd, KwText, KwMenuLabel,
		KwMenuDefault, KwMenuHide, KwMenuDisable, KwMenuIndent, KwMenuPasswd,
		KwMenuGoto, KwMenuExit, KwMenuQuit, KwMenuHelp, KwMenuSave,
		KwMenuNoSave, KwMenuImmediate, KwMenuNoImmediate:
		return true
	}
	return false
}

// menuSetting reports whether k sets the look or behaviour of the current
// menu in a way Resolve keeps but does not interpret.
func (k Keyword) menuSetting() bool {
	switch k {
	case KwMenuColor, KwMenuMsgColor, KwMenuWidth, KwMenuMargin,
		KwMenuPasswordMargin, KwMenuRows, KwMenuTabMsgRow, KwMenuCmdLineRow,
		KwMenuEndRow, KwMenuPasswordRow, KwMenuTimeoutRow, KwMenuHelpMsgRow,
		KwMenuHelpMsgEndRow, KwMenuHiddenRow, KwMenuHShift, KwMenuVShift,
		KwMenuTabMsg, KwMenuNoTabMsg, KwMenuAutoboot, KwMenuPassPrompt,
		KwMenuResolution, KwMenuClear, KwMenuShiftKey, KwMenuMasterPasswd,
		KwMenuHiddenKey, KwMenuStart:
		return true
	}
	return false
}

// labelOrMenuSetting reports whether k applies to a label after LABEL and
// to the menu elsewhere.
func (k Keyword) labelOrMenuSetting() bool {
	switch k {
	case KwMenuSave, KwMenuNoSave, KwMenuImmediate, KwMenuNoImmediate:
		return true
	}
	return false
}

// globalSetting reports whether k is a global directive Resolve keeps but
// does not interpret.
func (k Keyword) globalSetting() bool {
	switch k {
	case KwSerial, KwConsole, KwFont, KwKbdMap, KwNoEscape, KwNoComplete,
		KwNoHalt, KwAllowOptions, KwImplicit, KwSay, KwPXERetry, KwSendCookies:
		return true
	}
	return false
}

// endsLabel reports whether k closes the LABEL block before it.
func (k Keyword) endsLabel() bool {
	switch k {
	case KwLabel, KwMenuBegin, KwMenuEnd, KwMenuSeparator, KwInclude, KwMenuInclude:
		return true
	}
	return false
}

// fkey returns the canonical F-key keyword for w ("f1".."f12", "f0" is F10
// as in syslinux), or "".
func fkey(w string) Keyword {
	if len(w) < 2 || len(w) > 3 || (w[0]|0x20) != 'f' {
		return ""
	}
	n, err := strconv.Atoi(w[1:])
	if err != nil || w[1] == '+' || w[1] == '-' || n < 0 || n > 12 {
		return ""
	}
	if n == 0 {
		n = 10
	}
	return Keyword("F" + strconv.Itoa(n))
}

// IsFKey reports whether k is one of F1 to F12.
func (k Keyword) IsFKey() bool { return fkey(string(k)) == k && k != "" }
