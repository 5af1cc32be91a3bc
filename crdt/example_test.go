package crdt_test

import (
	"fmt"

	"github.com/quire/quire/crdt"
)

func ExampleDoc_Transact() {
	d := crdt.NewDoc(crdt.WithClientID(1))
	update := d.Transact(func() {
		t := d.GetText("t")
		t.Insert(0, "hello world")
		t.Format(0, 5, map[string]any{"bold": true})
		_ = d.GetMap("m").Set("k", "v")
		p, _ := d.GetXmlFragment("default").InsertElement(0, "paragraph")
		x, _ := p.InsertText(0)
		x.Insert(0, "rich text")
	})

	// Another replica catches up with the update.
	replica := crdt.NewDoc(crdt.WithClientID(2))
	if err := replica.ApplyUpdate(update); err != nil {
		panic(err)
	}
	fmt.Println(replica.GetText("t").Delta())
	fmt.Println(replica.GetMap("m").ToJSON())
	fmt.Println(replica.GetXmlFragment("default").String())
	// Output:
	// [{hello map[bold:true]} { world map[]}]
	// map[k:v]
	// <paragraph>rich text</paragraph>
}
