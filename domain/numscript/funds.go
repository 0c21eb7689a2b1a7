package numscript

import (
	"math/big"

	"github.com/kontorhq/kontor/domain/ledger"
)

// sender is an amount taken from an account (in a color), waiting to be
// given to a destination.
type sender struct {
	account string
	color   string
	amount  *big.Int
}

// fundsQueue holds what the sources of a send took, in order; destinations
// pull from its front. Consecutive takes from the same account and color
// are merged. Amounts are never modified in place.
type fundsQueue []sender

// push appends s, merging it with the last sender when they match.
func (q *fundsQueue) push(s sender) {
	if s.amount.Sign() == 0 {
		return
	}
	if n := len(*q); n > 0 {
		last := (*q)[n-1]
		if last.account == s.account && last.color == s.color {
			(*q)[n-1].amount = new(big.Int).Add(last.amount, s.amount)
			return
		}
	}
	*q = append(*q, s)
}

// pull removes amount from the front of the queue (less if it holds less)
// and returns it, split by sender.
func (q *fundsQueue) pull(amount *big.Int) []sender {
	left := new(big.Int).Set(amount)
	var out []sender
	for left.Sign() > 0 && len(*q) > 0 {
		front := (*q)[0]
		if front.amount.Cmp(left) > 0 {
			out = append(out, sender{account: front.account, color: front.color, amount: new(big.Int).Set(left)})
			(*q)[0].amount = new(big.Int).Sub(front.amount, left)
			return out
		}
		out = append(out, front)
		left.Sub(left, front.amount)
		*q = (*q)[1:]
	}
	return out
}

// clone returns a copy of the queue that can change independently.
func (q fundsQueue) clone() fundsQueue { return append(fundsQueue(nil), q...) }

// takeFrom records that amount leaves account (in color): its working
// balance drops and the funds wait in the queue.
func (in *interp) takeFrom(account, color string, amount *big.Int) {
	if amount.Sign() == 0 {
		return
	}
	in.bal.add(balanceKey{account, coloredAsset(in.asset, color)}, new(big.Int).Neg(amount))
	in.queue.push(sender{account: account, color: color, amount: amount})
}

// giveTo hands amount from the front of the queue to account, emitting the
// postings.
func (in *interp) giveTo(account string, amount *big.Int) {
	for _, s := range in.queue.pull(amount) {
		asset := coloredAsset(in.asset, s.color)
		in.emit(s.account, account, asset, s.amount)
		in.bal.add(balanceKey{account, asset}, s.amount)
	}
}

// keep hands amount from the front of the queue back to its senders: it
// is not moved.
func (in *interp) keep(amount *big.Int) {
	for _, s := range in.queue.pull(amount) {
		in.bal.add(balanceKey{s.account, coloredAsset(in.asset, s.color)}, s.amount)
	}
}

// emit appends a posting, merged into the previous posting of the same
// statement when source, destination and asset are the same.
func (in *interp) emit(source, destination, asset string, amount *big.Int) {
	if amount.Sign() == 0 {
		return
	}
	if n := len(in.postings); n > in.stmtStart {
		last := in.postings[n-1]
		if last.Source == source && last.Destination == destination && last.Asset == asset {
			in.postings[n-1].Amount = new(big.Int).Add(last.Amount, amount)
			return
		}
	}
	in.postings = append(in.postings, ledger.NewPosting(source, destination, asset, new(big.Int).Set(amount)))
}

// checkpoint is the state a oneof branch may have to roll back to.
type checkpoint struct {
	journal  int
	queue    fundsQueue
	postings int
	last     ledger.Posting
}

func (in *interp) checkpoint() checkpoint {
	c := checkpoint{journal: len(in.bal.journal), queue: in.queue.clone(), postings: len(in.postings)}
	if c.postings > 0 {
		c.last = in.postings[c.postings-1]
	}
	return c
}

// rollback undoes every move made since c.
func (in *interp) rollback(c checkpoint) {
	in.bal.undo(c.journal)
	in.queue = c.queue
	in.postings = in.postings[:c.postings]
	if c.postings > 0 {
		in.postings[c.postings-1] = c.last
	}
}
