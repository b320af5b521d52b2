"""The words of the console's reports and webhooks pages and of the certificate banner, in Armenian and Russian
(the English text is the key; merged into ``console.i18n``)."""

from __future__ import annotations

EXTRA: dict[str, tuple[str, str]] = {  # English: (Armenian, Russian)
    "Reports": ("Հաշվետվություններ", "Отчёты"),
    "X report": ("X հաշվետվություն", "X-отчёт"),
    "Z report": ("Z հաշվետվություն", "Z-отчёт"),
    "Take an X report": ("Հանել X հաշվետվություն", "Снять X-отчёт"),
    "Take a Z report": ("Հանել Z հաշվետվություն", "Снять Z-отчёт"),
    "An X report states the open shift's totals; the shift stays open.": (
        "X հաշվետվությունը ցույց է տալիս բաց հերթափոխի ամփոփումը. հերթափոխը մնում է բաց։",
        "X-отчёт показывает итоги открытой смены; смена остаётся открытой.",
    ),
    "A Z report states the same totals and closes the shift. This cannot be undone.": (
        "Z հաշվետվությունը ցույց է տալիս նույն ամփոփումը և փակում է հերթափոխը։ Դա հնարավոր չէ հետարկել։",
        "Z-отчёт показывает те же итоги и закрывает смену. Это нельзя отменить.",
    ),
    "Close the shift of this register?": ("Փակե՞լ այս դրամարկղի հերթափոխը", "Закрыть смену этой кассы?"),
    "Yes, take the Z report and close the shift": (
        "Այո, հանել Z հաշվետվությունը և փակել հերթափոխը",
        "Да, снять Z-отчёт и закрыть смену",
    ),
    "Cancel": ("Չեղարկել", "Отмена"),
    "The shift is empty: no document since the last Z report, so there is nothing to close": (
        "Հերթափոխը դատարկ է. վերջին Z հաշվետվությունից հետո փաստաթուղթ չկա, փակելու բան չկա",
        "Смена пуста: после последнего Z-отчёта нет документов, закрывать нечего",
    ),
    "Type": ("Տեսակ", "Тип"),
    "Shift": ("Հերթափոխ", "Смена"),
    "Taken at": ("Հանվել է", "Снят"),
    "No reports.": ("Հաշվետվություններ չկան։", "Отчётов нет."),
    "Print": ("Տպել", "Печать"),
    "All reports": ("Բոլոր հաշվետվությունները", "Все отчёты"),
    "Webhooks": ("Webhook-ներ", "Вебхуки"),
    "Add an endpoint": ("Ավելացնել հասցե", "Добавить адрес"),
    "Events": ("Իրադարձություններ", "События"),
    "The endpoint's signing secret (shown once, store it now):": (
        "Հասցեի ստորագրման գաղտնիքը (ցուցադրվում է մեկ անգամ, պահեք այն հիմա)",
        "Секрет подписи адреса (показывается один раз, сохраните его сейчас):",
    ),
    "No endpoints.": ("Հասցեներ չկան։", "Адресов нет."),
    "Recent deliveries": ("Վերջին առաքումները", "Последние доставки"),
    "No deliveries.": ("Առաքումներ չկան։", "Доставок нет."),
    "Replay": ("Կրկին ուղարկել", "Отправить снова"),
    "Delete": ("Ջնջել", "Удалить"),
    "Delivery queued again": ("Առաքումը կրկին հերթում է", "Доставка снова в очереди"),
    "Certificate expired": ("Վկայականի ժամկետն անցել է", "Срок сертификата истёк"),
    "Certificate expiring": ("Վկայականի ժամկետը լրանում է", "Срок сертификата истекает"),
    "The SRC certificate of register {register} (CRN {crn}) expired on {date}: nothing is sent to SRC for it.": (
        "{register} դրամարկղի (ՀԴՄ {crn}) ՊԵԿ վկայականի ժամկետն անցել է {date}-ին. ՊԵԿ-ին ոչինչ չի ուղարկվում։",
        "Сертификат КГД кассы {register} (РНК {crn}) истёк {date}: в КГД по ней ничего не отправляется.",
    ),
    "The SRC certificate of register {register} (CRN {crn}) expires on {date} ({days} days left).": (
        "{register} դրամարկղի (ՀԴՄ {crn}) ՊԵԿ վկայականի ժամկետը լրանում է {date}-ին (մնաց {days} օր)։",
        "Сертификат КГД кассы {register} (РНК {crn}) истекает {date} (осталось дней: {days}).",
    ),
    "Receipt SMS": ("Կտրոնի SMS", "SMS с чеком"),
}
