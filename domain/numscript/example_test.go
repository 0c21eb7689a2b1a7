package numscript_test

import (
	"context"
	"fmt"
	"math/big"

	"github.com/kontorhq/kontor/domain/ledger"
	"github.com/kontorhq/kontor/domain/numscript"
)

func Example() {
	prog, err := numscript.Parse(`vars {
  monetary $price
  account $merchant = meta(@platform, "merchant")
}
send $price (
  source = {
    @users:001 allowing overdraft up to [USD/2 50]
    @world
  }
  destination = {
    10% to @platform:fees
    remaining to $merchant
  }
)
set_tx_meta("price", $price)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	store := numscript.StaticStore{
		Assets: map[string]map[string]*big.Int{"users:001": {"USD/2": big.NewInt(100)}},
		Meta:   map[string]ledger.Metadata{"platform": {"merchant": "merchants:42"}},
	}
	res, err := prog.Run(context.Background(), store, map[string]string{"price": "USD/2 199"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Postings {
		fmt.Printf("%s -> %s %s %s\n", p.Source, p.Destination, p.Asset, p.Amount)
	}
	fmt.Println(res.Metadata["price"])
	// Output:
	// users:001 -> platform:fees USD/2 20
	// users:001 -> merchants:42 USD/2 130
	// world -> merchants:42 USD/2 49
	// USD/2 199
}

func ExampleProgram_Check() {
	prog, _ := numscript.Parse(`send [USD *] (
  source = @world
  destination = { 1/2 to @a 1/3 to @b }
)`)
	for _, d := range prog.Check(nil) {
		fmt.Println(d)
	}
	// Output:
	// 2:12: error: cannot take all balance from an unbounded source
	// 3:17: error: allotment portions sum to 5/6, less than 1: add a 'remaining' clause?
}
