/* The network's state in the model: see netstate.h. */
#include "netstate.h"

#include <stdlib.h>

#include "reports/core/error.h"
#include "reports/core/model.h"

void net_init(struct et_model *m)
{
	m->net = calloc(1, sizeof(*m->net));
	if (!m->net)
		et_oom();
}

void net_free(struct et_model *m)
{
	struct et_net *n = m->net;
	if (!n)
		return;
	free(n->conns);
	udp_free(&n->udp);
	skb_free_all(&n->skbs);
	free(n);
	m->net = NULL;
}
