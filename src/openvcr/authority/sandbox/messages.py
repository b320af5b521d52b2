"""The SRC error table: every code with its constant and its localized ``errorMessage`` (hy, en, ru).

Rules:
- The language comes from the ``language`` request header (``hy`` by default; unknown values fall back to hy).
- Templates use ``{0}``, ``{1}`` placeholders as in the manual; :func:`text` fills them.
- Codes whose manual entry is the generic field template ("Invalid value for the field [{0}] : {1}") share it.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("hy", "en", "ru")

_FIELD = {
    "hy": "Սխալ արժեք [{0}] դաշտի համար : {1}",
    "en": "Invalid value for the field [{0}] : {1}",
    "ru": "Недопустимое значение для поля [{0}] : {1}",
}


@dataclass(frozen=True)
class ErrorKind:
    code: int
    message: str  # the constant, e.g. INVALID_SEQ
    texts: dict[str, str]


def _kind(code: int, message: str, hy: str, en: str, ru: str) -> ErrorKind:
    return ErrorKind(code, message, {"hy": hy, "en": en, "ru": ru})


def _field(code: int, message: str) -> ErrorKind:
    return ErrorKind(code, message, dict(_FIELD))


SUCCESS = {
    "hy": "Գործողությունը հաջողությամբ ավարտվեց",
    "en": "Success",
    "ru": "Операция успешно завершeна",
}

TIMEOUT = _kind(101, "TIMEOUT", "Ժամանակը լրացել է", "Request timeout", "Тайм-аут")
UNAUTHORIZED_IP = _kind(
    403,
    "UNAUTHORIZED_CONNECTION",
    "Նույնականացումը և լիազորումը ձախողվել են",
    "Authentication and authorization failed",
    "Аутентификация и авторизация не удались",
)
UNAUTHORIZED_TIN = _kind(403, "UNAUTHORIZED_CONNECTION", "Սխալ ՀՎՀՀ", "Invalid Tin", "Неправильный ИНН")
UNAUTHORIZED_CERT = _kind(
    403,
    "UNAUTHORIZED_CONNECTION",
    "Սերտիֆիկատի սխալ համար",
    "Invalid Certificate serial number",
    "Неправильный серийный номер сертификата",
)
INTERNAL_DEPARTMENTS = _kind(
    500,
    "INTERNAL_ERROR",
    "Բաժնի պահպանման ձախողում",
    "Failed to save departments",
    "Не удалось сохранить отделы",
)
INTERNAL_RECEIPT = _kind(
    500, "INTERNAL_ERROR", "Կտրոնի պահպանման ձախողում", "Failed to save receipt", "Не удалось сохранить чек"
)
INVALID_CRN = _kind(
    103,
    "INVALID_CRN",
    "ՀԴՄ-ի սխալ գրանցման համար",
    "Invalid CRN",
    "Неправильный регистрационный номер ККМ",
)
# The manual's only sample of 104 reads "Սխալ արժեք seq դաշտի համար. 3"; en/ru use the field template.
INVALID_SEQ = _kind(
    104,
    "INVALID_SEQ",
    "Սխալ արժեք {0} դաշտի համար. {1}",
    _FIELD["en"],
    _FIELD["ru"],
)
WRONG_JSON = _kind(105, "WRONG_JSON", "Սխալ JSON", "Wrong JSON", "Неправильный JSON")
PAID_LESS_THAN_TOTAL = _kind(
    152,
    "PAID_AMOUNT_LESS_THAN_TOTAL",
    "Վճարված գումարը {0} պակաս է ընդհանուր գումարից {1}",
    "Paid amount {0} is less than total amount {1}",
    "Выплаченная сумма {0} меньше общей суммы {1}",
)
ALREADY_RETURNED = _kind(
    158,
    "RETURN_RECEIPT_ALREADY_RETURNED",
    "Նշված կտրոնը արդեն վերադաձվել է",
    "Return receipt is already returned",
    "Указанный чек уже возвращен",
)
NON_POSITIVE_VALUE = _kind(
    159,
    "NON_POSITIVE_VALUE",
    "{0} արժեքը պետք է լինի զրոյից մեծ թիվ",
    "{0} value should be greater than zero",
    "{0} значение должно быть больше нуля",
)
INVALID_DISCOUNT_VALUE = _field(160, "INVALID_DISCOUNT_VALUE")
INVALID_GOOD_CODE = _field(161, "INVALID_GOOD_CODE")
INVALID_GOOD_NAME = _field(162, "INVALID_GOOD_NAME")
INVALID_RECEIPT_PRODUCT_ID = _kind(
    163,
    "INVALID_RECEIPT_PRODUCT_ID_PRESENT",
    "Առկա է կտրոնի որևէ ապրանքի սխալ ծածկագիր",
    "Invalid receipt product ID present",
    "В чеке присутствует неверный идентификатор продукта",
)
INVALID_MEASURE_UNIT = _field(164, "INVALID_MEASURE_UNIT")
ITEM_FULL_PRICE_NON_POSITIVE = _field(165, "ITEM_FULL_PRICE_NON_POSITIVE")
CARD_EXCEEDED_TOTAL = _kind(
    167,
    "CARD_AMOUNT_EXCEEDED_TOTAL",
    "Անկանխիկ գումարը {0} գերազանցում է ընդհանուր գումարը {1}",
    "Card amount {0} exceeded total amount {1}",
    "Сумма карты {0} превышает общую сумму {1}",
)
REDUNDANT_CASH = _kind(
    168,
    "REDUNDANT_CASH",
    "Կանխիկ գումարը {0} գերազանցում է",
    "Cash amount {0} is redundant",
    "Сумма наличных средств {0} является избыточной",
)
RECEIPT_DOES_NOT_EXIST = _kind(
    176, "RECEIPT_DOES_NOT_EXIST", "Կտրոնը գոյություն չունի", "Receipt does not exist", "Чек не существует"
)
UNSUPPORTED_RETURN_TYPE = _kind(
    177,
    "RETURN_RECEIPT_UNSUPPORTED_TYPE",
    "Նշված տեսակի կտրոնների համար վերադարձ հնարավոր չէ կատարել",
    "Unsupported return receipt type",
    "Возвраты указанного типа чеков не принимаются",
)
RETURN_WRONG_AMOUNTS = _kind(
    178, "RETURN_RECEIPT_WRONG_AMOUNTS", "Սխալ գումարներ", "Wrong amounts", "Неправильные суммы"
)
PARTIAL_PAYMENT_FULL_RETURN = _kind(
    179,
    "PARTIAL_PAYMENT_RECEIPT_MUST_BE_RETURNED_FULLY",
    "Մասնակի վճարման կտրոնը պետք է ամբողջությամբ վերադարձվի",
    "Partial payment receipt must be returned fully",
    "Чек частичной оплаты должен быть возвращен полностью",
)
MISSING_GOODS = _kind(180, "MISSING_GOODS", "Ապրանքները նշված չեն", "Products are not specified", "Товары не указаны")
INVALID_QUANTITY_FOR_ITEM = _field(181, "INVALID_QUANTITY_FOR_ITEM")
RETURN_OF_RETURN = _kind(
    182,
    "RETURN_RECEIPT_IS_RETURN_TYPE",
    "Հնարավոր չէ կատարել վերադարձ, քանի որ նշված համարի կտրոնը հանդիսանում է վերադարձի կտրոն",
    "Return receipt is return type",
    "Возврат невозможен, поскольку номер чека является чеком возврата",
)
INVALID_ADG_CODE = _field(183, "INVALID_ADG_CODE")
INVALID_PREPAYMENT_AMOUNT = _kind(
    186,
    "INVALID_PREPAYMENT_AMOUNT",
    "Կանխավճարի սխալ գումար",
    "Invalid prepayment amount",
    "Неверная сумма предоплаты",
)
INVALID_ITEMS = _kind(
    187,
    "INVALID_ITEMS",
    "Ապրանքների ցանկը պետք է դատարկ լինի",
    "Items list should be empty",
    "Список товаров должен быть пустым",
)
INVALID_AMOUNTS = _kind(188, "INVALID_AMOUNTS", "Սխալ գումարներ", "Invalid amounts", "Неправильные суммы")
INVALID_ROUNDING = _kind(189, "INVALID_ROUNDING", "Սխալ կլորացում", "Invalid rounding", "Неверное округление")
ADG_CODE_REQUIRED = _kind(
    192,
    "ADG_CODE_REQUIRED",
    "Դասակարգիչը պարտադիր է",
    "Classifier is required",
    "Классификатор является обязательным атрибутом",
)
INVALID_DISCOUNT_TYPE = _field(193, "INVALID_DISCOUNT_TYPE")
ACTIVATION_FAILED = _kind(
    195,
    "CRM_ACTIVATION_FAILED",
    "Էլեկտրոնային ՀԴՄ ակտիվացումը ձախողվել է ընթացիկ կարգավիճակի՝ {0}, պատճառով",
    "Electronic CRM activation failed due to current status: {0}",
    "Активация электронной ККМ не удалась из-за текущего статуса {0}",
)
INACTIVE_CRM = _kind(
    196,
    "INACTIVE_CRM",
    "Էլեկտրոնային ՀԴՄ ակտիվ չէ։ Ընթացիկ կարգավիճակ՝ {0}",
    "Electronic CRM is not active. Current status is {0}",
    "Электронная ККМ не активна. Текущий статус: {0}",
)
FIELD_REQUIRED = _kind(197, "FIELD_REQUIRED", "{0} դաշտը նշված չէ", "{0} is not provided", "Поле {0} не указано")
INVALID_FIELD = _field(198, "INVALID_FIELD")
CRM_BLOCKED = _kind(
    199,
    "CRM_IS_BLOCKED",
    "ՀԴՄ-ի աշխատանքը արգելափակված է ՊԵԿ-ի կողմից {0} թ․-ի թիվ {1} արձանագրության հիման վրա",
    "CRM is blocked by the State Revenue Committee of RA on {0} on the basis of the protocol number {1}",
    "Работа ККМ заблокирована КГД {0} г. на основании протокола номер {1}",
)
INVALID_TAX_REGIME = _kind(
    200,
    "INVALID_TAX_REGIME",
    "Նշված հարկման ռեժիմը {0} տրված բաժնի {1} համար սխալ է",
    "Provided tax regime {0} is invalid for the given department {1}",
    "Указанный налоговый режим {0} является недействительным для данного отдела {1}",
)
MISSING_DEPARTMENTS = _kind(
    201, "MISSING_DEPARTMENTS", "Բաժինները նշված չեն", "Departments are not specified", "Отделы не указаны"
)
EXISTING_DEPARTMENT = _kind(
    202,
    "EXISTING_DEPARTMENT",
    "Նշված բաժինը {0} արդեն գոյություն ունի և հնարավոր չէ թարմացնել",
    "Department {0} already exists and cannot be updated",
    "Отдел {0} уже существует и не может быть обновлен",
)

ALL_KINDS: tuple[ErrorKind, ...] = (
    TIMEOUT,
    UNAUTHORIZED_IP,
    UNAUTHORIZED_TIN,
    UNAUTHORIZED_CERT,
    INTERNAL_DEPARTMENTS,
    INTERNAL_RECEIPT,
    INVALID_CRN,
    INVALID_SEQ,
    WRONG_JSON,
    PAID_LESS_THAN_TOTAL,
    ALREADY_RETURNED,
    NON_POSITIVE_VALUE,
    INVALID_DISCOUNT_VALUE,
    INVALID_GOOD_CODE,
    INVALID_GOOD_NAME,
    INVALID_RECEIPT_PRODUCT_ID,
    INVALID_MEASURE_UNIT,
    ITEM_FULL_PRICE_NON_POSITIVE,
    CARD_EXCEEDED_TOTAL,
    REDUNDANT_CASH,
    RECEIPT_DOES_NOT_EXIST,
    UNSUPPORTED_RETURN_TYPE,
    RETURN_WRONG_AMOUNTS,
    PARTIAL_PAYMENT_FULL_RETURN,
    MISSING_GOODS,
    INVALID_QUANTITY_FOR_ITEM,
    RETURN_OF_RETURN,
    INVALID_ADG_CODE,
    INVALID_PREPAYMENT_AMOUNT,
    INVALID_ITEMS,
    INVALID_AMOUNTS,
    INVALID_ROUNDING,
    ADG_CODE_REQUIRED,
    INVALID_DISCOUNT_TYPE,
    ACTIVATION_FAILED,
    INACTIVE_CRM,
    FIELD_REQUIRED,
    INVALID_FIELD,
    CRM_BLOCKED,
    INVALID_TAX_REGIME,
    MISSING_DEPARTMENTS,
    EXISTING_DEPARTMENT,
)

STATUS_NAMES: dict[str, dict[str, str]] = {
    "pending": {"hy": "Ենթակա է հաստատման", "en": "Pending approval", "ru": "Ожидает подтверждения"},
    "current": {"hy": "Ընթացիկ", "en": "Current", "ru": "Текущий"},
    "operating": {"hy": "Գործող", "en": "Operating", "ru": "Действующий"},
    "blocked": {"hy": "Արգելափակված", "en": "Blocked", "ru": "Заблокирован"},
}

REGIME_NAMES: dict[int, str] = {
    1: "ԱԱՀ-ով հարկվող",
    2: "ԱԱՀ-ով չհարկվող",
    3: "Շրջ.հարկվող",
    7: "Միկրոձեռնարկատիրություն",
}


def language_of(header: str | None) -> str:
    """The response language for a ``language`` header value (hy by default)."""
    value = (header or "").strip().lower()[:2]
    return value if value in LANGUAGES else "hy"


def text(kind: ErrorKind, language: str, *args: object) -> str:
    """The localized ``errorMessage`` of ``kind`` with its placeholders filled."""
    template = kind.texts.get(language, kind.texts["hy"])
    for index, arg in enumerate(args):
        template = template.replace("{" + str(index) + "}", str(arg))
    return template
