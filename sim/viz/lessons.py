"""Guided lessons of the teaching view, in English and Persian.

Each lesson is a preset (:class:`~sim.viz.model.Settings`: a ``sim/configs/scenario`` preset for
market A and what B is), the chart to look at first, and four short texts: the idea, what to
watch, and a question for the class. Sources are the project's seed documents (000-004, see
``/work/shared/domain.md`` and README) and Dick & Basu (1994).
"""
from __future__ import annotations

from dataclasses import dataclass

from .model import CONTROL, Settings


@dataclass(frozen=True)
class Lesson:
    """A guided lesson: its key, starting market settings, the chart it shows first and its text per language."""

    key: str
    settings: Settings
    focus: str                       # chart shown first: ladder, diff, stages, money, quad, pareto
    text: dict[str, dict[str, str]]  # locale -> title, explain, watch, question


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "ladder", Settings(scenario="lesson_ladder", compare=CONTROL), "ladder",
        {"en": {
            "title": "1. The ladder: who climbs and who stalls",
            "explain": "Customers move up the loyalty ladder one step at a time: suspect → prospect → first-time "
                       "buyer → repeat buyer → client → loyal → advocate (source 000, after Jones). They do not "
                       "climb evenly: many buy once and never come back, many prospects never try. Here the firm "
                       "does nothing for 8 weeks; on day 56 it starts advertising, acquisition, a loyalty "
                       "programme, churn outreach and cross-selling. Market B is the same market without them.",
            "watch": "The dots: which columns fill and which stay thin. The stage chart: the first-time band stays "
                     "thin while repeat buyers and clients grow slowly. On day 56 (marked) A and B part; until "
                     "then they are identical.",
            "question": "At which step do most customers stall, and what would you do at that step?"},
         "fa": {
            "title": "۱. نردبان: چه کسی بالا می‌رود و چه کسی می‌ماند",
            "explain": "مشتریان پله‌پله از نردبان وفاداری بالا می‌روند: مشتری احتمالی ← مشتری بالقوه ← خرید "
                       "آزمایشی ← خرید مکرر ← مشتری اصلی ← وفادار ← حامی (سند ۰۰۰، به نقل از جونز). همه یکسان بالا "
                       "نمی‌روند: بسیاری یک بار می‌خرند و دیگر برنمی‌گردند و بسیاری از مشتریان بالقوه هرگز خرید "
                       "آزمایشی نمی‌کنند. در این درس شرکت ۸ هفته کاری نمی‌کند؛ از روز ۵۶ تبلیغات، جذب، برنامهٔ "
                       "وفاداری، تماس پیش از ریزش و فروش متقابل را آغاز می‌کند. بازار ب همان بازار بدون آنهاست.",
            "watch": "نقطه‌ها: کدام ستون‌ها پر می‌شوند و کدام کم‌جمعیت می‌مانند. نمودار مراحل: نوار خرید آزمایشی "
                     "باریک می‌ماند و خریداران مکرر و مشتریان اصلی آهسته زیاد می‌شوند. در روز ۵۶ (علامت‌گذاری‌شده) "
                     "الف و ب از هم جدا می‌شوند؛ تا آن روز یکسان‌اند.",
            "question": "بیشتر مشتریان روی کدام پله می‌مانند و شما در آن پله چه می‌کنید؟"}}),
    Lesson(
        "dick_basu", Settings(scenario="retention_focused", compare=CONTROL), "quad",
        {"en": {
            "title": "2. Dick & Basu: true, latent and spurious loyalty",
            "explain": "Loyalty has two parts: relative attitude (how much customers prefer the firm) and repeat "
                       "patronage (how often they come back). Dick & Basu (1994, in source 000) cross them: true "
                       "loyalty (both high), latent (high attitude, low repeat), spurious (low attitude, high "
                       "repeat: habit or switching costs) and no loyalty. Market A spends on keeping customers "
                       "(loyalty programme, service recovery, churn outreach, win-back, cross-sell); B is the "
                       "same market without that.",
            "watch": "The quadrant chart of A: how customers move between quadrants week by week. A loyalty "
                     "programme raises switching costs and repeat buying; does it raise attitude too? Compare "
                     "A's and B's defections in the side-by-side table.",
            "question": "Spuriously loyal customers buy often but do not like the firm. Why are they at risk, and "
                        "what would make them truly loyal?"},
         "fa": {
            "title": "۲. دیک و باسو: وفاداری واقعی، پنهان و کاذب",
            "explain": "وفاداری دو جزء دارد: نگرش نسبی (مشتری چقدر شرکت را ترجیح می‌دهد) و تکرار خرید (چند وقت یک "
                       "بار برمی‌گردد). دیک و باسو (۱۹۹۴، در سند ۰۰۰) این دو را کنار هم می‌گذارند: وفاداری واقعی "
                       "(هر دو بالا)، پنهان (نگرش بالا، تکرار کم)، کاذب (نگرش پایین، تکرار زیاد: عادت یا هزینهٔ "
                       "جابه‌جایی) و بی‌وفایی. بازار الف برای نگه داشتن مشتریان هزینه می‌کند (برنامهٔ وفاداری، "
                       "بازیابی خدمت، تماس پیش از ریزش، بازگرداندن، فروش متقابل)؛ ب همان بازار بدون این‌هاست.",
            "watch": "نمودار چهارخانهٔ الف: مشتریان هفته به هفته چگونه میان خانه‌ها جابه‌جا می‌شوند. برنامهٔ وفاداری "
                     "هزینهٔ جابه‌جایی و تکرار خرید را بالا می‌برد؛ آیا نگرش را هم بالا می‌برد؟ ریزش الف و ب را در "
                     "جدول کنار هم مقایسه کنید.",
            "question": "مشتریان با وفاداری کاذب زیاد می‌خرند ولی شرکت را دوست ندارند. چرا در خطرند و چه چیزی آنها "
                        "را وفادار واقعی می‌کند؟"}}),
    Lesson(
        "acquisition_retention", Settings(scenario="retention_focused", compare="acquisition_only"), "diff",
        {"en": {
            "title": "3. Acquisition vs retention: where does the money work?",
            "explain": "Winning a new customer costs about five times as much as keeping a satisfied one (source "
                       "001; 5-10 times in 003). A new customer needs 8-10 contacts, an existing one 2-3 (003, "
                       "industrial sales). Market A spends on the customers it has (retention focused); market B, "
                       "with the same customers and the same random numbers, spends only on winning new ones "
                       "(acquisition only).",
            "watch": "The side-by-side table: marketing spend, customers won, defections and profit of A and B. "
                     "The A − B chart: which firm is ahead, and from when?",
            "question": "Divide each firm's marketing spend by the customers it won or kept. Does the simulation "
                        "agree with 'five times'? What would change your answer?"},
         "fa": {
            "title": "۳. جذب در برابر حفظ: پول کجا کار می‌کند؟",
            "explain": "به دست آوردن مشتری تازه حدود پنج برابر نگه داشتن یک مشتری راضی هزینه دارد (سند ۰۰۱؛ ۵ تا "
                       "۱۰ برابر در ۰۰۳). مشتری تازه ۸ تا ۱۰ تماس می‌خواهد و مشتری فعلی ۲ تا ۳ (۰۰۳، فروش صنعتی). "
                       "بازار الف بودجه‌اش را صرف مشتریان فعلی می‌کند (تمرکز بر حفظ)؛ بازار ب با همان مشتریان و "
                       "همان اعداد تصادفی فقط برای جذب مشتری تازه هزینه می‌کند (فقط جذب).",
            "watch": "جدول کنار هم: هزینهٔ بازاریابی، مشتریان جذب‌شده، ریزش و سود الف و ب. نمودار الف − ب: کدام "
                     "شرکت جلوتر است و از چه زمانی؟",
            "question": "هزینهٔ بازاریابی هر شرکت را بر تعداد مشتریانی که جذب کرده یا نگه داشته تقسیم کنید. آیا "
                        "شبیه‌سازی «پنج برابر» را تأیید می‌کند؟ چه چیزی پاسخ شما را تغییر می‌دهد؟"}}),
    Lesson(
        "service_failure", Settings(scenario="lesson_service_failure", compare="default"), "diff",
        {"en": {
            "title": "4. Service failure, recovery and negative word of mouth",
            "explain": "A bad service experience can send a customer to a competitor (source 004), and a "
                       "dissatisfied customer tells 8-10 people (000); loyal, long-standing customers forgive "
                       "more (000). In market A service quality drops by 0.3 on day 63 (a botched system change) "
                       "and recovers on day 175; the firm keeps its usual strategies, complaint handling "
                       "included. Market B is the same market with no failure.",
            "watch": "The markers on the time charts: failure and recovery. Defections and the A − B customers "
                     "line during the failure; whether customers come back after quality recovers; the "
                     "first-time buyers, who have the least reason to forgive.",
            "question": "The failure lasted 16 weeks. How long does its cost last, and what would you have done "
                        "in week one?"},
         "fa": {
            "title": "۴. شکست خدمت، بازیابی و تبلیغ دهان‌به‌دهان منفی",
            "explain": "یک تجربهٔ بد خدمت می‌تواند مشتری را به رقیب بفرستد (سند ۰۰۴) و مشتری ناراضی ماجرا را برای "
                       "۸ تا ۱۰ نفر تعریف می‌کند (۰۰۰)؛ مشتریان وفادار و قدیمی اغماض بیشتری دارند (۰۰۰). در بازار "
                       "الف کیفیت خدمت در روز ۶۳ به اندازهٔ ۰٫۳ افت می‌کند (یک تغییر سیستم ناموفق) و در روز ۱۷۵ "
                       "بازمی‌گردد؛ شرکت راهبردهای همیشگی‌اش، از جمله رسیدگی به شکایت، را ادامه می‌دهد. بازار ب "
                       "همان بازار بدون شکست است.",
            "watch": "علامت‌های روی نمودارهای زمانی: افت و بازگشت. ریزش و خط مشتریان الف − ب در دوران افت؛ اینکه "
                     "پس از بازگشت کیفیت مشتریان برمی‌گردند یا نه؛ خریداران آزمایشی که کمترین دلیل را برای اغماض "
                     "دارند.",
            "question": "افت خدمت ۱۶ هفته طول کشید. هزینه‌اش تا کی ادامه دارد و شما در هفتهٔ نخست چه می‌کردید؟"}}),
    Lesson(
        "pareto", Settings(scenario="default", compare=CONTROL), "pareto",
        {"en": {
            "title": "5. The Pareto value split",
            "explain": "About 20 % of customers bring 80 % of the profit (sources 000, 002, 003). Nothing in the "
                       "simulation says so: each customer's basket value is drawn from a skewed (log-normal) "
                       "distribution, and the split emerges from who buys, how often and how much. Some "
                       "customers cost more to serve and contact than they bring.",
            "watch": "The value-split chart: the curve climbs steeply (the top buyers), flattens, and can fall at "
                     "the end: those customers lose money. Its title gives the top 20 %'s share now; watch it "
                     "settle as weeks pass.",
            "question": "If 20 % of customers bring most of the profit, whom would you invest in, whom would you "
                        "serve more cheaply, and whom would you let go?"},
         "fa": {
            "title": "۵. تقسیم ارزش پارتو",
            "explain": "حدود ۲۰٪ مشتریان ۸۰٪ سود را می‌آورند (اسناد ۰۰۰، ۰۰۲ و ۰۰۳). هیچ جای شبیه‌سازی این را "
                       "تحمیل نمی‌کند: ارزش سبد هر مشتری از یک توزیع چوله (لگ‌نرمال) می‌آید و این تقسیم از اینکه چه "
                       "کسی، چند بار و چقدر می‌خرد پدید می‌آید. خدمت و تماس برخی مشتریان بیش از آنچه می‌آورند "
                       "هزینه دارد.",
            "watch": "نمودار تقسیم ارزش: منحنی تند بالا می‌رود (خریداران برتر)، سپس صاف می‌شود و در انتها ممکن است "
                     "پایین بیاید: این مشتریان زیان‌ده‌اند. عنوان نمودار سهم ۲۰٪ برتر را نشان می‌دهد؛ ببینید با "
                     "گذشت هفته‌ها چگونه تثبیت می‌شود.",
            "question": "اگر ۲۰٪ مشتریان بیشتر سود را می‌آورند، روی چه کسانی سرمایه‌گذاری می‌کنید، به چه کسانی "
                        "ارزان‌تر خدمت می‌دهید و چه کسانی را رها می‌کنید؟"}}),
)

BY_KEY = {lesson.key: lesson for lesson in LESSONS}
