"""What the KB is not about: example questions far from any support topic.

e5 scores an out-of-scope question against the closest article about as high as a real
paraphrase ("quel temps fait-il ?" meets the resolution-time article at 0.91, through
"temps"), so a similarity alone cannot say "not ours". Compared with these examples it
can: a question closer to one of them than to any article, by OFF_TOPIC_MARGIN
(kb.decision), is not answered and gets no article offered. They were written from the
kinds of things people ask a chat bot (weather, jokes, sports, food, homework, other
products), never from the held-out questions; editors may add to them.
"""

from __future__ import annotations

OFF_TOPIC: tuple[str, ...] = (
    # weather, time, date
    "what's the weather like today",
    "will it rain tomorrow",
    "quel temps fait-il",
    "il va pleuvoir demain ?",
    "quelle heure est-il",
    "what time is it",
    "what day is it today",
    "on est quel jour",
    # jokes, chit-chat, the bot itself
    "tell me a joke",
    "raconte-moi une blague",
    "how are you doing",
    "comment ça va",
    "are you a robot",
    "t'es un humain ?",
    "what is your name",
    "comment tu t'appelles",
    "do you love me",
    "tu m'aimes ?",
    "what's the meaning of life",
    "sing me a song",
    # sports, news, politics, celebrities
    "who won the football match last night",
    "qui a gagné le match hier soir",
    "who is the president of the united states",
    "qui est le président de la république",
    "latest news headlines",
    "quelles sont les nouvelles du jour",
    "how old is taylor swift",
    # food, travel, shopping
    "recipe for chocolate cake",
    "recette de la pâte à crêpes",
    "where can i eat pizza near me",
    "un bon restaurant près d'ici",
    "cheap flights to paris",
    "billet de train pour lyon",
    "what should i cook tonight",
    "je veux commander une pizza",
    # general knowledge, maths, homework, translation
    "what is the capital of australia",
    "quelle est la capitale du canada",
    "how much is 17 times 23",
    "combien font 12 fois 8",
    "translate hello into spanish",
    "traduis bonjour en allemand",
    "write my essay about world war 2",
    "explain quantum physics",
    "c'est quoi la photosynthèse",
    # other companies' products, personal life
    "how do i reset my iphone",
    "comment installer windows 11",
    "my car won't start",
    "ma voiture ne démarre pas",
    "how to lose weight fast",
    "comment arrêter de fumer",
    "best netflix series",
    "un bon film à voir ce soir",
    "horoscope du jour",
    "what's bitcoin price today",
)
