// Package bootmenu parses, edits and prints pxelinux menus.
package bootmenu
