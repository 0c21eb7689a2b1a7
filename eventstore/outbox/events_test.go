package outbox

import "testing"

func TestTopicMapping(t *testing.T) {
	m, err := ParseTopicMapping([]string{"COMMITTED_TRANSACTIONS:txs", "*:rest"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic(EventCommittedTransactions) != "txs" || m.Topic(EventSavedMetadata) != "rest" {
		t.Fatalf("mapping %v", m)
	}
	if TopicMapping(nil).Topic(EventSavedMetadata) != DefaultTopic {
		t.Fatal("nil mapping is not the default topic")
	}
	if _, err := ParseTopicMapping([]string{"nocolon"}); err == nil {
		t.Fatal("bad entry accepted")
	}
}
