"""What the order skills say, Chinese first, then English: one place for every skill text.

`say(key, lang, **values)` fills a template; a missing language falls back to Chinese.
"""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    # -- shared: choosing an order, leaving, not understanding, confirming ------------------------
    "which_order": {
        "zh": "亲，您有 {count} 个进行中的订单，请问是哪一个？\n{choices}\n回复序号（如「第二个」）或订单号就好～",
        "en": "You have {count} open orders. Which one do you mean?\n{choices}\n"
              "Reply with the number (e.g. \"the second\") or the order number.",
    },
    "choice_line": {"zh": "{n}. {order_id}：{items}（{status}）", "en": "{n}. {order_id}: {items} ({status})"},
    "not_found": {
        "zh": "抱歉，在您的账号下没有找到订单 {order_id}，请核对一下订单号；需要的话回复「转人工」，我为您转接人工客服。",
        "en": "Sorry, I can't find order {order_id} for this account. Please check the number, or reply "
              "\"agent\" and I'll connect you to our team.",
    },
    "left": {"zh": "好的，已为您取消这次操作，订单保持不变～还有其他可以帮您的吗？",
             "en": "OK, I've stopped there and your order is unchanged. Anything else I can help with?"},
    "to_human": {"zh": "好的～", "en": "OK."},
    "again": {"zh": "抱歉，我没看明白～", "en": "Sorry, I didn't catch that."},
    "unclear": {"zh": "抱歉，我还是没能理解，已为您转接人工客服，请稍候～",
                "en": "Sorry, I still didn't understand, so I'm passing you to a member of our team."},
    "expired": {"zh": "订单 {order_id} 的状态刚刚变了，我没法继续这次修改；已为您转接人工客服，请稍候～",
                "en": "Order {order_id} has just changed, so I can't go on with this; I'm passing you to our team."},
    "shipped": {
        "zh": "亲，订单 {order_id} {status}，{what}已经不能由我直接修改了；已为您转接人工客服，看看还有什么办法～",
        "en": "Order {order_id} is {status}, so I can't change {what} any more myself. I'm passing you to a "
              "member of our team to see what can be done.",
    },
    "confirm_hint": {"zh": "回复「是」确认，回复「算了」放弃。", "en": "Reply \"yes\" to confirm or \"never mind\" to stop."},
    # -- order status words -----------------------------------------------------------------------
    "status_unpaid": {"zh": "还未付款", "en": "not paid yet"},
    "status_paid": {"zh": "已付款、待发货", "en": "paid, waiting to ship"},
    "status_shipped": {"zh": "已发货", "en": "shipped"},
    "status_delivered": {"zh": "已签收", "en": "delivered"},
    "status_after_sale": {"zh": "售后处理中", "en": "in after-sales"},
    # -- logistics ----------------------------------------------------------------------------------
    "track_head": {"zh": "亲，您的订单 {order_id}（{items}）{status}。", "en": "Your order {order_id} ({items}) is {status}."},
    "track_carrier": {"zh": "{carrier}，运单号 {tracking_no}。", "en": " Carrier: {carrier}, tracking number {tracking_no}."},
    "track_latest": {"zh": "最新物流：{time} {text}", "en": " Latest update: {time}, {text}"},
    "track_none_yet": {"zh": "暂时还没有物流更新，揽收后一般几个小时内就能查到～",
                       "en": " There is no tracking update yet; it usually appears within a few hours of pickup."},
    "track_unpaid": {"zh": "付款后我们会尽快安排发货哦～", "en": " We'll ship it as soon as it's paid."},
    "track_paid": {"zh": "发货后这里就能查到物流～", "en": " You'll be able to track it here once it ships."},
    # -- address change -------------------------------------------------------------------------------
    "addr_what": {"zh": "收货地址", "en": "the delivery address"},
    "addr_ask": {"zh": "好的，订单 {order_id}（{items}）还没发货，可以改地址。请把新的收货地址发给我（省市区、街道门牌，姓名和电话也可以一起发）～",
                 "en": "Order {order_id} ({items}) hasn't shipped yet, so the address can be changed. "
                       "Please send me the new delivery address (street, city, and name and phone if they change too)."},
    "addr_readback": {"zh": "新的收货地址是：\n{address}\n确认把订单 {order_id} 改寄到这里吗？",
                      "en": "The new delivery address is:\n{address}\nShall I change order {order_id} to this address?"},
    "addr_retry": {"zh": "好的，请重新发送正确的收货地址～", "en": "OK, please send me the correct address."},
    "addr_done": {"zh": "已为您把订单 {order_id} 的收货地址改为：\n{address}\n我们会按新地址发货～",
                  "en": "Done: order {order_id} will now be delivered to:\n{address}"},
    "update_failed": {"zh": "抱歉，修改没有成功，已为您转接人工客服处理，请稍候～",
                      "en": "Sorry, the change didn't go through; I'm passing you to our team to do it."},
    # -- spec change ----------------------------------------------------------------------------------
    "spec_what": {"zh": "尺码和颜色", "en": "the size or colour"},
    "spec_ask": {"zh": "好的，订单 {order_id}（{items}）还没发货。请告诉我想改成的尺码或颜色～",
                 "en": "Order {order_id} ({items}) hasn't shipped yet. Which size or colour would you like instead?"},
    "spec_readback": {"zh": "确认把订单 {order_id}（{items}）改为「{spec}」吗？",
                      "en": "Shall I ask to change order {order_id} ({items}) to \"{spec}\"?"},
    "spec_retry": {"zh": "好的，请告诉我正确的尺码或颜色～", "en": "OK, which size or colour would you like?"},
    "spec_done": {"zh": "已记录：订单 {order_id} 想改为「{spec}」。改规格需要核对库存和差价，已为您转接人工客服办理，改好后会告诉您；在此之前订单还是原来的规格哦。",
                  "en": "Noted: you'd like order {order_id} changed to \"{spec}\". A colleague needs to check stock "
                        "and price, so I'm passing your request to our team; until they confirm, the order "
                        "keeps its current option."},
    # -- cancellation ---------------------------------------------------------------------------------
    "cancel_what": {"zh": "订单", "en": "the order"},
    "cancel_ask": {"zh": "确认要取消订单 {order_id}（{items}，{status}）吗？",
                   "en": "Do you want to cancel order {order_id} ({items}, {status})?"},
    "cancel_shipped": {
        "zh": "亲，订单 {order_id} {status}，已经不能直接取消了，可以拒收或收到后申请七天无理由退货；已为您转接人工客服协助处理～",
        "en": "Order {order_id} is {status}, so it can't simply be cancelled any more; you can refuse the "
              "delivery or return it within 7 days. I'm passing you to our team to help.",
    },
    "cancel_done": {"zh": "已记录您取消订单 {order_id} 的申请，已为您转接人工客服办理{refund}；办好之前订单还没有取消哦。",
                    "en": "I've recorded your request to cancel order {order_id} and passed it to our team{refund}; "
                          "until they confirm, the order is not cancelled yet."},
    "cancel_refund": {"zh": "，已付款项会原路退回", "en": ", and any payment goes back the way you paid"},
}


def say(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang` (Chinese when missing), filled with `values`."""
    texts = _TEXTS[key]
    return (texts.get(lang) or texts["zh"]).format(**values)
