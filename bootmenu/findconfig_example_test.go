package bootmenu_test

import (
	"fmt"
	"testing/fstest"

	"github.com/pxekit/pxekit/bootmenu"
)

// Find a distribution image's isolinux menu and read it with its
// includes, relative names resolved as isolinux resolves them.
func ExampleFindConfig() {
	image := fstest.MapFS{ // as package isofs would show an ISO image
		"isolinux/isolinux.cfg": {Data: []byte("default install\ninclude txt.cfg\n")},
		"isolinux/txt.cfg":      {Data: []byte("label install\n  kernel /install/vmlinuz\n  append initrd=/install/initrd.gz\n")},
	}
	name, dir, err := bootmenu.FindConfig(image)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := bootmenu.Resolve(image, name, &bootmenu.ResolveOptions{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name, dir, r.Files, r.Menu.Entries[0].Kernel)
	// Output:
	// isolinux/isolinux.cfg isolinux [isolinux/isolinux.cfg isolinux/txt.cfg] /install/vmlinuz
}
