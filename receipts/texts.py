"""Receipt texts in German, English, Swedish and Japanese, and locale number formats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from receipts import money

LANGUAGES = ("de", "en", "sv", "ja")

# key: (de, en, sv, ja)
_TABLE: dict[str, tuple[str, str, str, str]] = {
    "title.de_small": (
        "Kleinbetragsrechnung",
        "Small-amount invoice",
        "Förenklad faktura",
        "簡易請求書",
    ),
    "title.de_full": ("Rechnung", "Invoice", "Faktura", "請求書"),
    "title.se_simplified": (
        "Vereinfachte Rechnung",
        "Simplified invoice",
        "Förenklad faktura",
        "簡易請求書",
    ),
    "title.se_full": ("Rechnung", "Invoice", "Faktura", "請求書"),
    "title.eu_simplified": (
        "Vereinfachte Rechnung",
        "Simplified invoice",
        "Förenklad faktura",
        "簡易請求書",
    ),
    "title.eu_full": ("Rechnung", "Invoice", "Faktura", "請求書"),
    "title.jp_simplified": (
        "Vereinfachte qualifizierte Rechnung",
        "Qualified simplified invoice",
        "Förenklad kvalificerad faktura",
        "適格簡易請求書",
    ),
    "title.nothing_charged": (
        "Beleg: nichts berechnet",
        "Voucher: nothing charged",
        "Kvitto: inget debiterat",
        "ご請求なし（与信取消）",
    ),
    "title.cancellation": ("Stornorechnung", "Cancellation invoice", "Kreditfaktura", "取消伝票"),
    # Not "Gutschrift": in German VAT law that word means self-billing by the recipient.
    "title.credit_note": ("Rechnungskorrektur", "Credit note", "Kreditnota", "適格返還請求書"),
    "label.number": ("Rechnungsnummer", "Invoice number", "Fakturanummer", "請求書番号"),
    "label.issue_date": ("Rechnungsdatum", "Issue date", "Fakturadatum", "発行日"),
    "label.vat_id": ("USt-IdNr.", "VAT ID", "Momsregistreringsnummer", "VAT ID"),
    "label.tax_number": ("Steuernummer", "Tax number", "Skattenummer", "税務番号"),
    "label.registration_number": (
        "Registrierungsnummer",
        "Registration number",
        "Registreringsnummer",
        "登録番号",
    ),
    "label.evse": (
        "Ladepunkt (EVSE-ID)",
        "Charge point (EVSE ID)",
        "Laddpunkt (EVSE-ID)",
        "充電器 (EVSE ID)",
    ),
    "label.site": ("Standort", "Site", "Plats", "設置場所"),
    "label.session_start": ("Ladebeginn", "Charging start", "Laddning start", "充電開始"),
    "label.session_end": ("Ladeende", "Charging end", "Laddning slut", "充電終了"),
    "label.energy": ("Energie", "Energy", "Energi", "電力量"),
    "label.service": ("Leistung", "Service", "Tjänst", "内容"),
    "service.charging": (
        "Ladestrom (Ladevorgang)",
        "Electricity for EV charging",
        "Laddel (laddning)",
        "EV充電（電力量）",
    ),
    "label.transaction": ("Transaktion", "Transaction", "Transaktion", "取引番号"),
    "label.cpo_invoice": (
        "Referenz Betreiberrechnung",
        "CPO invoice reference",
        "Operatörens fakturareferens",
        "事業者請求書番号",
    ),
    "label.original": ("Storno zu Rechnung", "Cancels invoice", "Krediterar faktura", "取消対象"),
    "label.replaces": ("Ersetzt Rechnung", "Replaces invoice", "Ersätter faktura", "差替対象"),
    "label.corrects": (
        "Korrektur zu Rechnung",
        "Corrects invoice",
        "Korrigerar faktura",
        "返還対象",
    ),
    "customer.intro": (
        "Sie brauchen eine Rechnung mit Ihrem Namen und Ihrer Anschrift? Die Rechnung wird "
        "storniert und mit Ihren Angaben neu ausgestellt.",
        "Need an invoice with your name and address? The invoice is cancelled and issued "
        "again with your details.",
        "Behöver du en faktura med ditt namn och din adress? Fakturan krediteras och utfärdas "
        "på nytt med dina uppgifter.",
        "お名前とご住所入りの請求書が必要な場合、この請求書を取り消し、ご記入内容で再発行します。",
    ),
    "customer.submit": (
        "Rechnung mit meinen Angaben ausstellen",
        "Issue the invoice with my details",
        "Utfärda fakturan med mina uppgifter",
        "記入内容で請求書を発行",
    ),
    "customer.error": (
        "Bitte Name und Anschrift angeben (höchstens 4 Zeilen zu je 100 Zeichen).",
        "Please give name and address (at most 4 lines of 100 characters).",
        "Ange namn och adress (högst 4 rader om 100 tecken).",
        "お名前とご住所を入力してください（4行まで、各100文字まで）。",
    ),
    "label.legal_basis": ("Rechtsgrundlage", "Legal basis", "Rättslig grund", "根拠法令"),
    "component.energy": ("Energie", "Energy", "Energi", "電力量料金"),
    "component.time": ("Zeit", "Time", "Tid", "時間料金"),
    "component.session": ("Ladevorgang", "Session fee", "Startavgift", "充電1回料金"),
    "component.parking": ("Parken", "Parking", "Parkering", "駐車料金"),
    "col.item": ("Position", "Item", "Post", "項目"),
    "col.quantity": ("Menge", "Quantity", "Antal", "数量"),
    "col.unit_price": ("Einzelpreis", "Unit price", "À-pris", "単価"),
    "col.rate": ("USt.", "VAT", "Moms", "税率"),
    "col.amount": ("Betrag", "Amount", "Belopp", "金額"),
    "vat.rate": ("USt.-Satz", "VAT rate", "Momssats", "税率"),
    "vat.net": ("Netto", "Net", "Netto", "税抜金額"),
    "vat.vat": ("USt.", "VAT", "Moms", "消費税額"),
    "vat.gross": ("Brutto", "Gross", "Brutto", "税込金額"),
    "label.total": ("Gesamtbetrag", "Total", "Totalt", "合計"),
    "customer.heading": ("Leistungsempfänger", "Customer", "Köpare", "お客様"),
    "customer.name": ("Name", "Name", "Namn", "氏名"),
    "customer.address": ("Anschrift", "Address", "Adress", "住所"),
    "payment.heading": ("Zahlung", "Payment", "Betalning", "お支払い"),
    "payment.refund_heading": ("Erstattung", "Refund", "Återbetalning", "返金"),
    "page.credit_notes": (
        "Rechnungskorrekturen",
        "Credit notes",
        "Kreditnotor",
        "適格返還請求書",
    ),
    "payment.brand": ("Karte", "Card", "Kort", "カード"),
    "payment.pan": ("Kartennummer", "Card number", "Kortnummer", "カード番号"),
    "payment.aid": ("AID", "AID", "AID", "AID"),
    "payment.terminal_id": ("Terminal-ID", "Terminal ID", "Terminal-ID", "端末ID"),
    "payment.trace": ("Trace-Nr.", "Trace no.", "Spårnummer", "取引通番"),
    "payment.receipt_no": (
        "Beleg-Nr. Terminal",
        "Terminal receipt no.",
        "Terminalkvitto nr",
        "端末伝票番号",
    ),
    "payment.auth_code": (
        "Genehmigungs-Nr.",
        "Authorisation code",
        "Auktoriseringskod",
        "承認番号",
    ),
    "payment.time": ("Zeitpunkt", "Date and time", "Tidpunkt", "日時"),
    "payment.amount": ("Betrag", "Amount", "Belopp", "金額"),
    "payment.held": ("Reservierter Betrag", "Amount held", "Reserverat belopp", "与信額"),
    "metering.heading": (
        "Eichrechtliche Messdaten",
        "Calibration-law metering data",
        "Mätdata (Eichrecht)",
        "計量データ（署名付き）",
    ),
    "metering.meter_id": ("Zähler-ID", "Meter ID", "Mätar-ID", "メーターID"),
    "metering.start": (
        "Zählerstand Beginn",
        "Meter reading start",
        "Mätarställning start",
        "開始時指示値",
    ),
    "metering.end": (
        "Zählerstand Ende",
        "Meter reading end",
        "Mätarställning slut",
        "終了時指示値",
    ),
    "metering.ocmf": (
        "Signierte Messdaten (OCMF)",
        "Signed meter data (OCMF)",
        "Signerade mätdata (OCMF)",
        "署名付き計量データ (OCMF)",
    ),
    "metering.public_key": ("Öffentlicher Schlüssel", "Public key", "Publik nyckel", "公開鍵"),
    "metering.hint": (
        "Prüfen Sie die Messwerte mit der Transparenzsoftware (safe-ev.de); die Datei finden "
        "Sie unter dem Link im QR-Code. Vergleichen Sie den Schlüssel mit dem Ladepunkt.",
        "Check the readings with the Transparenzsoftware (safe-ev.de); the file is at the link "
        "in the QR code. Compare the key with the one on the charge point.",
        "Kontrollera mätvärdena med Transparenzsoftware (safe-ev.de); filen finns via länken "
        "i QR-koden. Jämför nyckeln med den på laddpunkten.",
        "計量値は Transparenzsoftware (safe-ev.de) で検証できます。"
        "ファイルはQRコードのリンクから取得できます。公開鍵は充電器の表示と照合してください。",
    ),
    "voucher.text": (
        "Die Reservierung über {held} wurde freigegeben. Es wurde nichts berechnet.",
        "The hold of {held} has been released. Nothing was charged.",
        "Reservationen på {held} har släppts. Inget har debiterats.",
        "{held} の与信は取り消されました。請求はありません。",
    ),
    "qr.caption": ("Beleg online", "Receipt online", "Kvitto online", "オンライン領収書"),
    "page.download_pdf": (
        "PDF herunterladen",
        "Download PDF",
        "Ladda ner PDF",
        "PDFをダウンロード",
    ),
    "page.download_xml": (
        "Messdaten (Transparenzsoftware-XML)",
        "Meter data (Transparenzsoftware XML)",
        "Mätdata (Transparenzsoftware-XML)",
        "計量データ (Transparenzsoftware XML)",
    ),
    "page.signature": ("Signaturprüfung", "Signature check", "Signaturkontroll", "署名検証"),
    "page.sig.valid": ("gültig", "valid", "giltig", "有効"),
    "page.sig.invalid": ("UNGÜLTIG", "INVALID", "OGILTIG", "無効"),
    "page.sig.unsupported": (
        "Verfahren nicht unterstützt",
        "algorithm not supported",
        "algoritmen stöds inte",
        "未対応の方式",
    ),
    "page.sig.no_key": ("kein Schlüssel", "no key", "ingen nyckel", "公開鍵なし"),
    "page.sig.malformed": ("fehlerhafte Daten", "malformed data", "felaktiga data", "不正なデータ"),
}


def text(key: str, language: str) -> str:
    """The text `key` in `language` (one of LANGUAGES)."""
    return _TABLE[key][LANGUAGES.index(language)]


def all_texts(language: str) -> list[str]:
    """Every text of `language`, e.g. to choose a font that covers them."""
    return [row[LANGUAGES.index(language)] for row in _TABLE.values()]


def _group(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(parts)


# (thousands separator, decimal separator) per language
_SEPARATORS = {"de": (".", ","), "en": (",", "."), "sv": (" ", ","), "ja": (",", ".")}


def number(value: Decimal, places: int, language: str) -> str:
    """`value` with exactly `places` decimals in the language's notation (1.234,567 in de)."""
    thousands, point = _SEPARATORS[language]
    quantized = f"{abs(value):.{places}f}"
    whole, _, fraction = quantized.partition(".")
    sign = "-" if value < 0 and Decimal(quantized) != 0 else ""
    return sign + _group(whole, thousands) + (point + fraction if places else "")


def amount(minor: int, currency: str, language: str) -> str:
    """Minor units as a printed amount with currency: `12,34 EUR`, `EUR 12.34`, `1,234円`."""
    shown = number(money.to_major(minor, currency), money.exponent(currency), language)
    if language == "ja" and currency == "JPY":
        return f"{shown}円"
    if language == "en":
        return f"{currency} {shown}"
    return f"{shown} {currency}"


def unit_price(value: Decimal, currency: str, language: str) -> str:
    """A unit price with at least the currency's decimals, more when the tariff has them."""
    places = max(money.exponent(currency), -value.normalize().as_tuple().exponent, 0)
    shown = number(value, places, language)
    if language == "ja" and currency == "JPY":
        return f"{shown}円"
    if language == "en":
        return f"{currency} {shown}"
    return f"{shown} {currency}"


def rate(value: Decimal, language: str) -> str:
    """A VAT rate as printed: `19 %` (de, sv), `19%` (en, ja)."""
    places = max(-value.normalize().as_tuple().exponent, 0)
    shown = number(value, places, language)
    return f"{shown} %" if language in ("de", "sv") else f"{shown}%"


def when(moment: datetime, timezone: str, language: str) -> str:
    """A local date and time: `21.11.2026 14:03` (de), `2026-11-21 14:03` (en, sv), ja 年月日."""
    local = moment.astimezone(ZoneInfo(timezone))
    if language == "de":
        return local.strftime("%d.%m.%Y %H:%M")
    if language == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%Y-%m-%d %H:%M")
