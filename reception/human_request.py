"""Does the buyer ask for a human? Rules for Chinese and English, plus a few fuzzy examples.

`is_human_request` fires on

* an **explicit request** for a person: ``转人工``, ``人工客服``, ``找客服``,
  ``叫你们客服出来``, ``真人``, ``有人吗``, "human", "agent", "real person",
  "talk to someone", "connect me to a representative", "live chat", "can I
  talk with a person" … in their usual phrasings, with typos ("agnet",
  "humna"), swearing and run-together words ("tocontact");
* a **challenge to the bot**: "are you a bot", ``你是机器人吗``, ``不要机器人``;
* an **escalation** that belongs to a person (DOMAIN.md: complaints go to the
  second line, angry buyers get faster human help): a complaint ("I want to
  complain", "how do I file a complaint", ``我要投诉``), support unreachable
  ("call center not picking up", ``客服电话打不通``), abuse of the service
  ("you are useless", "pathetic service", ``垃圾客服``), a message that is
  nothing but urgency ("this is urgent", ``急急急``), a demand for a
  supervisor (``叫你们经理出来``).

It stays quiet on

* questions *about* reaching the service, which the FAQ answers: "customer
  service phone number", "how can I contact customer service", "what are
  your customer care hours", ``客服电话多少``, ``怎么联系客服``. Naming the
  human explicitly still fires ("how do I talk to an agent", ``人工客服电话``,
  which AFQMC labels a paraphrase of 请联系人工客服);
* questions about whether a person is needed ("do I need to speak to a
  representative to change my PIN?");
* a bare greeting ``在吗``; negations ("I don't need an agent", ``不用转人工``);
* products and other trades: "human hair wig", "travel agent", "cleaning
  agent", ``人工智能``, ``人工草坪``, ``真人版``; ``人工`` as "by hand"
  (``人工开通``); "a transfer to someone".

`human_request_kind` says which rule fired (``explicit``, ``bot``,
``escalation``) for logs and analytics.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from .faq.text import normalize

# --- English ---------------------------------------------------------------------------

# Words a typo is corrected to (one edit; two for long words). Real words one edit
# away from them are never corrected.
_KEYS = (
    "agent", "human", "person", "someone", "somebody", "anyone", "anybody", "operator", "representative",
    "supervisor", "manager", "executive", "assistant", "customer", "service", "support", "speak", "speaking",
    "talking", "chatting", "contact", "contacting", "connect", "transfer", "available", "answering",
)
_REAL_WORDS = frozenset(
    "unavailable available assistance assisting assisted assists supporting supported services servicing personal personally humanity "
    "contacted contacts transferred transfers connected connection connects speaker speaks answered answers "
    "sneak steak spear speck taking talkin contract humane humid agents humans persons agency "
    "urgent aged walk want went manger managers serviced supports persona customers "
    "somewhat someday anyway chasing chaining".split()
)
_EN_EXPAND = {
    "u": "you", "ur": "your", "ya": "you", "r": "are", "pls": "please", "plz": "please", "wanna": "want to",
    "gotta": "got to", "im": "i am", "dont": "do not", "didnt": "did not", "cant": "can not", "cannot": "can not",
    "wont": "will not", "isnt": "is not", "doesnt": "does not", "noone": "no one", "uhelp": "you help",
    "centre": "center", "reps": "rep", "ppl": "people", "someoen": "someone", "wiht": "with", "wit": "with",
    "whit": "with", "witth": "with", "wtih": "with", "ther": "there", "tto": "to", "ot": "to", "teh": "the", "spk": "speak",
}
# Swearing and intensifiers dropped before the rules ("speak to a damn operator").
_FILLER = frozenset("damn goddamn goddam fucking fuckin freaking frigging bloody effing stupid dumb fricking".split())

_TARGET = (
    r"(?:(?:a |an |the |your |some |one of your )?(?:real |live |actual |human |customer |service |support |"
    r"care |chat |sales )*(?:agent|human|person|people|rep|representative|operator|staff|staff member|"
    r"supervisor|manager|executive|assistant|advisor|adviser|employee|associate|specialist|somebody|someone|"
    r"anybody|anyone|customer (?:service|support|care|assistance)(?: team| person| rep| representative)?|"
    r"(?:service|support|help) desk|helpdesk|support team|live chat|call cent(?:er|re)))"
)
_REACH = (
    r"(?:talk|talking|talked|speak|speaking|chat|chatting|contact|contacting|connect|connecting|connected|"
    r"(?<!a )(?<!the )transfer|transferring|transferred|reach|reaching|get in touch|get hold of|put me through|"
    r"escalate|escalating|direct|redirect|hand me over|hand me|pass me)"
)
_NOT_OURS = (  # agents and humans that are products or other trades
    r"(?:travel|estate|real estate|insurance|cleaning|bleaching|chemical|delivery|courier|shipping|"
    r"secret|free|foaming|sales tax|rental|leasing|booking|forwarding|double|special|ticket|"
    r"enforcement|fba|purchasing|sourcing|buying) agents?\b|\bagent (?:orange|smith|provocateur)"
    r"|\bhuman (?:hair|body|skin|anatomy|rights|resources?|growth|figure|error|trafficking|being|nature|race)"
    r"|\b(?:person|people)(?:al| who| that)"
)
_INFO = (r"\b(?:number|phone|hours?|timings?|time|email|mail|address|open|opening|working|toll|website|whatsapp)\b"
         r"|\b(?:care|service|support|center|centre) (?:no|num|nos)\b"
         r"|\b(?:how|where|when|what|which)\b|\b(?:do not|not) know\b|\bways? to\b")
_EN_RULES = [
    ("explicit", rf"\b{_REACH}\b(?: (?:with|to|me|me to|me with|me through to|up with|over to|for|in|at|out to))* (?:{_TARGET}|(?:your |the )?support)\b"),
    ("explicit", r"\b(?:want|need|get|give|send|request|prefer|require|looking for|bring)(?: me)? (?:a |an |the |your |some )?"
                 r"(?:real |live |actual |human |customer |service |support |care |sales )*(?:agent|human|person|rep|representative|"
                 r"operator|staff|supervisor|manager|executive|advisor|employee|someone|somebody|"
                 r"customer (?:service|support|care|assistance))\b"
                 r"(?! to (?!talk|speak|chat|help me$))"),
    ("explicit", rf"^(?:(?:i |please |hey |hi |hello |ok |okay |yes )*(?:need |want |would like |get me |connect |give me )?)?"
                 rf"(?:{_TARGET}|agent please|human please|talk|chat|speak|operator)(?: please| now| asap| pls)?$"),
    ("explicit", r"\b(?:is|are) (?:there |)(?:any ?one|any ?body|some ?one|some ?body|a human|a person|an agent|a real person)"
                 r"(?: (?:there|here|available|online|around))*(?: to (?:help|assist|talk|answer|chat))?(?: me| with me| to me)?(?: please| now)?$"),
    ("explicit", r"^(?:(?:hi|hello|hey|so|ok|okay|please) )*(?:any ?one|any ?body|some ?one|some ?body) (?:there|here|available|online|around)\b"),
    ("explicit", r"\b(?:live|real|actual|human) (?:person|agent|human|rep|representative|operator|chat|support|help|being)\b"),
    ("explicit", r"\b(?:human|live|real) agent\b|\bagent to (?:chat|talk|speak)\b|\bhuman to (?:talk|answer|help|chat)\b"),
    # another person than the one (or the bot) answering now
    ("explicit", r"(?<!by )(?<!for )(?<!with )\b(?:someone|somebody|anyone|anybody) else\b"
                 r"(?! (?:pick|receive|collect|sign|use|pay|order|buy|get))"
                 r"|\b(?:talk|speak|chat|want|need|get|give|connect|transfer|switch|change|let me)\b[a-z ]{0,15}"
                 r"\b(?:another|a different|other) (?:person|agent|human|rep|representative|operator|staff)\b"
                 r"|\b(?:your|a|another) (?:colleague|coworker|co worker)\b"),
    ("explicit", r"\b(?:a|real|actual) (?:person|human) (?:answer|reply|respond|help|look at)\b"
                 r"|\b(?:person|human|someone|somebody|agent) (?:i|we) (?:can|could) (?:talk|speak|chat)\b"),
    ("bot", r"\b(?:are|r) (?:you|u) (?:a |an )?(?:bot|robot|machine|computer|ai|human|real person|real|person|automated|chatbot)\b"),
    ("bot", r"\b(?:is this|am i (?:talking|speaking|chatting) (?:to|with)) (?:a |an )?(?:bot|robot|machine|human|real person|person|automated|chatbot)\b"),
    ("bot", r"\b(?:no|stop|hate|without|not want|not like) (?:the |this |a |talking to a |talking to the |to talk to a )?(?:bot|robot|chatbot)\b"),
    ("bot", r"\b(?:bot|robot|chatbot|machine) (?:is )?(?:useless|not helping|does not understand|can not help|is not helpful)"),
    ("bot", r"\b(?:no more|stop|enough of|enough with|quit) (?:the |this |your )?(?:bot|robot|chatbot|automated|auto)"
            r"(?: (?:replies|answers|messages|responses))?\b"),
    ("escalation", r"\b(?:call cent(?:er|re)|customer (?:care|service|support)|support|helpline|hotline|your (?:number|phone))"
                   r"(?: number| line| team)?(?: is)? (?:not|never|unavailable|unreachable|busy|always busy|down)"
                   r"(?: (?:reachable|available|answering|picking|responding|working|connecting|reply|replying))?"),
    ("escalation", r"\b(?:no ?one|nobody|no body|none) (?:is )?(?:answering|answers|responding|responds|replying|replies|picking|picks|helping|helps|there|available)\b"),
    ("escalation", r"\b(?:can not|could not|unable to|not able to) (?:reach|get through to|get hold of|connect to) "
                   r"(?:you|anyone|anybody|someone|your|the|customer|support|call)"),
    ("escalation", r"\b(?:you are|you guys are|you re|your|this is|what a|such a|very|really|so|worst|totally|completely) "
                   r"(?:(?:a |an |the |so |very |really |totally |completely )*)"
                   r"(?:useless|pathetic|worthless|fraud|frauds|cheats?|cheaters|scam|scammers|liars|hopeless|incompetent|"
                   r"not helpful|no help|not helping|waste of (?:my )?time)\b"),
    ("escalation", r"^(?:(?:this is |such |what |very |so |really |extremely )*(?:a |an )?)?(?:pathetic|poor|bad|worst|terrible|"
                   r"horrible|awful|lousy|useless|disgusting|rubbish|crap|shitty|pathetic customer|poor customer|bad customer)"
                   r" (?:customer )?(?:service|support|care|experience|response|help)\b"),
    ("escalation", r"\bwaste of (?:my )?time\b|\b(?:i am|im) (?:done|fed up|sick|tired) with (?:you|this|your|the)\b|\bfed up\b"),
    ("escalation", r"\b(?:speak|talk) to (?:your |the |a )?(?:supervisor|manager|boss|superior|senior)\b|\bescalate\b"),
    ("escalation", r"\bcomplain(?:t|ts|ing|ed)?\b|\breclamation\b|\b(?:customer|consumer) claim\b|\bclaim against\b"),
]
_URGENT = r"\b(?:urgent|urgently|emergency|immediate|immediately|asap)\b"
_URGENT_FILLER = frozenset(
    "i me my this it is an a its it s extremely very really so super need want get give please help assistance "
    "assist fix resolution resolve problem issue solution an urgent urgently emergency immediate immediately asap "
    "now right away am have got to be required require"
    .split()
)
# ... but wanting *it* soon is about the parcel, not a person: "need it asap" asks for fast shipping
_URGENT_ITEM = re.compile(r"\b(?:need|needs|want|wants|get|got)(?: it| this| them)\b")
# A request naming a person (not just "customer service") fires even in a how/when/phone question.
_STRONG = re.compile(r"\b(?:agent|human|person|people|rep|representative|operator|staff|supervisor|manager|executive|"
                     r"someone|somebody|anyone|anybody|live chat|advisor|assistant|employee)\b")
_ASKS_IF_NEEDED = re.compile(r"\b(?:(?:do|does|will|would) (?:i|we) (?:need|have|got) to|(?:should|must) (?:i|we)) "
                             r"(?:talk|speak|contact|call|chat|go through)\b")
_NEGATED = re.compile(r"\b(?:do not|does not|did not|no|not|never|without|dont) (?:need|want|require|wish)(?: to)?(?: (?:talk|speak|chat))?(?: (?:to|with))? (?:an? |the |any )?(?:agent|human|person|someone|anyone|rep|representative|operator|chat agent)")

# --- Chinese ---------------------------------------------------------------------------

_ZH_HUMAN = r"(?:人工|真人|活人|真的人|客服人员|真人客服|人工客服|人工服务)"
_ZH_NOT_OURS = (r"人工(?=关闭|开通|申请|审请|审核|操作|关|开|输入|修改|取消|计算|扣款|扣|还款|调整|激活|解冻|冻结|提额|降额|充值|转账|提升|发送|为您|帮您)"
                r"|真人(?:版|秀|cs|游戏|发|尺寸|大小)|个人(?:店铺|信息|资料|账户|帐户|中心|所得|用户|隐私|名义|主页|卖家|身份|原因|觉得|认为|感觉|版)|人工(?:智能|草|湖|费|成本|合成|降雨|繁殖|培育|养殖|种植|饲养|呼吸|授精|关节|晶体|钻石|宝石|皮|革|添加|色素|甜味|香料|造|河)")
_ZH_RULES = [
    ("explicit", _ZH_HUMAN),
    ("service", r"(?:找|叫|要|转|联系|接通|转接|换|呼叫|喊|让)(?:一下|一个|个|下|你们的?|您们的?|哪个|哪位)?(?:你们|您们)?(?:的)?客服"),
    ("service", r"客服(?:在吗|在不在|呢|出来|人呢|快点?回|回复我|回我|在线吗|有人吗|去哪了|过来)"),
    ("service", r"^(?:客服|小二|掌柜|店家|老板|亲)+$"),
    ("explicit", r"(?:^| )(?:你好|您好|请问|喂|哈喽|嗨|亲|在吗|那个)?(?:有人吗|有没有人|有人在吗|有人在不|人呢|人在吗|没人吗|没有人吗|有活人吗)(?:啊|呀|呢|吗|啦)*(?: |$)"),
    ("explicit", r"(?:来个人|找个人(?!信息|资料|隐私)|来个活人|喊个人|叫个人|有活人|有人回我|人都去哪|你们的?人呢|客服人呢)"),
    # another person (能不能换个人跟我说), a person rather than the bot (我想和人聊, 请人来回复我), a colleague
    ("explicit", r"换(?:个|一个|一位|位)?(?:人|别人|其他人|同事)(?!民币|员|物|口|家|群|头|手|气|生|格|的|收|签|取|名|地址|信息|电话|手机)"
                 r"|(?:和|跟|与)(?:真|活)?人(?:聊|说|谈|沟通|交流|对话)|(?:请|找|叫|让|要)(?:个|一个)?人来(?:回复|回答|处理|解决|跟我|和我|说)"
                 r"|(?:你们的?|其他|别的)同事(?:来|帮|回|处理)"),
    ("bot", r"(?:你|您|这)是(?:不是)?(?:机器人|机器|自动回复|ai|人工智能|真人|人)(?:吗|么|嘛|啊|吧|\?|$)"),
    ("bot", r"(?:不要|不想|别|不和|不跟|不需要|受够了?)(?:再|用|让)?(?:跟|和)?(?:机器人|机器|自动回复)|机器人?(?:听不懂|没用|答非所问|回复)"
            r"|机器人?(?:别|不要)(?:回|说|答)|聊了半天(?:还)?是机器|是机器(?:人)?回复"),
    ("escalation", r"(?:客服|热线|人工|你们的?电话)(?:电话)?(?:一直|总是|老是|根本)?(?:打不通|接不通|没人接|占线|联系不上|找不到|不接)"),
    ("escalation", r"(?:没人|没有人|都不)(?:回复|回|理|管|回答)(?!收|款|货)"),
    ("escalation", r"(?:垃圾|什么破|破)客服|客服(?:太垃圾|垃圾|是摆设|没用|不管用)|答非所问|听不懂人话|你们是骗子|骗子公司"),
    ("escalation", r"(?:找|叫|让|要)(?:你们的?)?(?:上级|主管|经理|领导|负责人|店长|老板)|(?:上级|主管|领导|负责人)(?:出来|电话|答复|来处理|来解决)"),
    ("escalation", r"^(?:很急|急急急|急死了|紧急|十万火急|着急|我很着急|急|急急)(?:啊|呀|了|的|！)*$"),
    ("escalation", r"(?<!隔空)投诉|举报你们|我要举报"),
]
_ZH_NEGATED = re.compile(r"(?:不用|不要|不需要|无需|别)(?:转|找|联系)?(?:人工|客服)")
# Asking how or where to reach the service, or for its details (answered by the FAQ).
_ZH_INFO = re.compile(r"客服(?:的)?(?:电话|热线|邮箱|地址|时间|几点|上班|工作时间|号码|qq|微信|联系方式|方式|渠道|途径)"
                      r"|(?:怎么|怎样|如何|在哪|哪里|哪儿|去哪)[^ ]{0,6}客服")

# Short phrasings of our own, matched fuzzily as a last resort (typos, odd word order).
_EXAMPLES = (
    "talk to a human", "speak to an agent", "chat with an agent", "connect me to an agent", "i want a human",
    "real person please", "human agent", "live agent", "customer service representative", "talk to someone",
    "get me a person", "transfer me to a human", "agent please", "speak to a representative", "can i talk with a person",
    "转人工", "人工客服", "我要人工", "找客服", "真人客服", "人工服务", "转接人工", "叫客服", "有人吗",
)

_COMPILED_EN = [(kind, re.compile(p)) for kind, p in _EN_RULES]
_NOT_OURS_RE, _INFO_RE, _URGENT_RE, _ZH_NOT_OURS_RE = map(re.compile, (_NOT_OURS, _INFO, _URGENT, _ZH_NOT_OURS))
_COMPILED_ZH = [(kind, re.compile(p)) for kind, p in _ZH_RULES]


@lru_cache(maxsize=4096)
def _correct(word: str) -> str:
    if word in _KEYS or word in _REAL_WORDS or len(word) < 4 or not word.isascii():
        return word
    best = process.extractOne(word, _KEYS, scorer=OSA.distance, score_cutoff=1 if len(word) < 12 else 2)
    if best and len(best[0]) >= 5:
        return best[0]
    for i in range(2, len(word) - 1):  # run-together words: "tocontact", "totalk"
        if word[:i] in ("to", "a", "an", "with", "i", "me") and word[i:] in _KEYS:
            return f"{word[:i]} {word[i:]}"
    return word


def _english(text: str) -> str:
    text = text.casefold().replace("\u2019", "'")
    text = re.sub(r"\bcan'?t\b", "can not", text)
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"'(?:m|re|s|ll|ve|d)\b", "", text)
    tokens = re.findall(r"[a-z]+", normalize(text))
    out = []
    for token in tokens:
        if token not in _FILLER:
            out.extend(_EN_EXPAND.get(token, _correct(token)).split())
    return " ".join(out)


def _chinese(text: str) -> str:
    """Normalised text with spaces kept only where punctuation or spacing separated Chinese clauses."""
    return re.sub(r"(?<=[a-z0-9]) (?=[a-z0-9])|(?<! ) (?! )", lambda m: " " if m.group(0) else "", normalize(text))


def human_request_kind(text: str) -> str | None:
    """``"explicit"``, ``"bot"`` or ``"escalation"`` when `text` asks for a human, else None.

    Only the first 500 characters are read.
    """
    text = text[:500]
    zh = _chinese(text)
    if re.search(r"[\u3400-\u9fff]", zh):
        masked = _ZH_NOT_OURS_RE.sub("", zh)
        if not _ZH_NEGATED.search(masked):
            for kind, rule in _COMPILED_ZH:
                if rule.search(masked):
                    if kind == "service":  # 客服 without 人工: a request unless it asks how/where to reach them
                        if _ZH_INFO.search(masked):
                            continue
                        kind = "explicit"
                    return kind
    en = _english(text)
    if en:
        masked = _NOT_OURS_RE.sub(" ", en)
        if not _NEGATED.search(masked) and not _ASKS_IF_NEEDED.search(masked):
            info = _INFO_RE.search(masked) is not None
            for kind, rule in _COMPILED_EN:
                match = rule.search(masked)
                if match:
                    if kind == "explicit" and info and not _STRONG.search(match.group(0)):
                        continue  # "how can I contact customer service": a question the FAQ answers
                    return kind
            if _URGENT_RE.search(masked) and set(masked.split()) <= _URGENT_FILLER and not _URGENT_ITEM.search(masked):
                return "escalation"
    short = normalize(text)
    if 0 < len(short) <= 40:
        best = process.extractOne(short, _EXAMPLES, scorer=fuzz.ratio, score_cutoff=88)
        if best:
            return "explicit"
    return None


def is_human_request(text: str) -> bool:
    """True when the buyer asks for a human agent (or challenges the bot / escalates), in Chinese or English."""
    return human_request_kind(text) is not None
